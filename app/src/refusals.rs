//! The field rules and the server's refusals in the reader's language. Every message of
//! the API is `field: rule`; the rules of SPEC.md section 5 read as `rule_text` words them,
//! the other refusals (409, 403, 404 ...) by field and rule. Anything unmapped keeps the
//! server's English text, so nothing is ever hidden.

use crate::client::Failure;
use crate::i18n::{I18n, Lang, T, text};
use crate::rules;

/// The rule of a field in the reader's language, for messages the client makes itself
/// and for the server's `field: rule` messages about the same rules.
pub fn rule_text(lang: Lang, field: &str) -> Option<&'static str> {
    let zh = lang == Lang::Zh;
    Some(match field {
        "user" => {
            if zh {
                "须为 2-32 个 ASCII 字母、数字或 _ . -，并以字母或数字开头"
            } else {
                rules::UserName::RULE
            }
        }
        "password" => {
            if zh {
                "须为 8-20 个字符，至少包含一个大写字母、一个小写字母和一个数字"
            } else {
                rules::Password::RULE
            }
        }
        "phone" => {
            if zh {
                "须为 5-20 位数字，可以 + 开头"
            } else {
                rules::Phone::RULE
            }
        }
        "realName" => {
            if zh {
                "须为 1-64 个字符"
            } else {
                rules::RealName::RULE
            }
        }
        "name" => {
            if zh {
                "须为 DNS-1123 标签：1-63 个 a-z、0-9 或 -，以字母或数字开头和结尾"
            } else {
                rules::BusinessName::RULE
            }
        }
        "introduce" | "objective" => {
            if zh {
                "须为 1-1000 个字符"
            } else {
                rules::LongText::RULE
            }
        }
        "scale" => {
            if zh {
                "须为 1-64 个字符"
            } else {
                rules::Scale::RULE
            }
        }
        "comment" => {
            if zh {
                "最多 512 个字符"
            } else {
                rules::Comment::RULE
            }
        }
        _ => return None,
    })
}

/// The rule part of `failure` in `lang`, or `None` when it has no translation. `field` and
/// `rule` are the two halves of the server's `field: rule`.
pub fn translate(lang: Lang, field: &str, rule: &str) -> Option<&'static str> {
    if lang == Lang::En {
        return None;
    }
    if let Some(english) = rule_text(Lang::En, field)
        && english == rule
    {
        return rule_text(lang, field);
    }
    let starts = |prefix: &str| rule.starts_with(prefix);
    let ends = |suffix: &str| rule.ends_with(suffix);
    let uris = matches!(field, "redirectUris" | "postLogoutRedirectUris");
    Some(match field {
        "user" if rule == "is already taken" => "该用户名已被占用",
        "user" if rule == "already has a pending or approved business" => "你已有一个待审批或已批准的业务",
        "user" if rule == "is forbidden" => "该账号已被禁用",
        "user" if rule == "the registration was not approved" => "注册未获批准",
        "phone" if rule == "is already registered" => "该手机号已被注册",
        "name" if rule == "is already taken by a pending or approved business" => {
            "该名称已被一个待审批或已批准的业务占用"
        }
        "businessId" if starts("no business") => "没有这个业务",
        "businessId" if ends("is neither pending nor approved") => "该业务既不是待审批也不是已批准状态",
        "id" if starts("no business") => "没有这个业务",
        "id" if starts("no user") => "没有这个用户",
        "id" if starts("business") && ends("is deleted") => "该业务已被删除",
        "id" if starts("the owner of business") => "该业务的所有者已被删除",
        "id" if rule == "the user owns a pending or approved business; delete it first" => {
            "该用户拥有一个待审批或已批准的业务，请先删除该业务"
        }
        "id" if starts("nobody may") && ends("itself") => "不能对自己执行此操作",
        "id" if starts("nobody may") && ends("the system administrator") => "不能对系统管理员执行此操作",
        "id" if rule == "must be a positive integer" => "须为正整数",
        "isAdmin" if rule == "only administrators may request a business" => "只有管理员可以申请业务",
        "role" if rule == "the system administrator does not request businesses" => "系统管理员不申请业务",
        "role" if rule == "your registration is awaiting approval" => "你的注册正在等待审批",
        "role" if starts("only") => "你的角色无权执行此操作",
        "role" if rule == "the caller's status or business changed while this request ran" => {
            "处理期间你的状态或业务发生了变化，请重试"
        }
        "oldPassword" if rule == "is incorrect" => "旧密码不正确",
        "password" if rule == "must differ from the old password" => "新密码须与旧密码不同",
        "totp" if rule == "enrolment required" => "需要先设置两步验证",
        "totp" if rule == "two-factor sign-in is already on" => "两步验证已开启",
        "totp" if rule == "two-factor sign-in is not on" => "两步验证未开启",
        "code" if rule == "is not valid" => "验证码无效",
        "code" if rule == "a one-time code is required" => "需要一次性验证码",
        "name" if rule == rules::ClientName::RULE => text(lang, T::ClientNameRule),
        _ if uris && rule == rules::RedirectUri::RULE => text(lang, T::RedirectUriRule),
        _ if uris && rule == "must list 1-10 URIs" => text(lang, T::RedirectUrisCount),
        _ if uris && rule == "must list 0-10 URIs" => text(lang, T::PostLogoutUrisCount),
        _ if uris && starts("must not list") && ends("twice") => "不能重复列出同一个 URI",
        "clientId" if rule == "must be 24 hexadecimal digits" => "须为 24 位十六进制数字",
        "client_id" if rule == "is not a registered application" => "不是已登记的应用",
        "redirect_uri" if rule == "must be exactly one of the application's registered redirect URIs" => {
            "必须与该应用登记的某个重定向 URI 完全一致"
        }
        _ => return None,
    })
}

/// A refusal as a sentence for a notice above a form or list: translated where known,
/// else the server's text.
pub fn shown(i18n: I18n, failure: &Failure) -> String {
    failure
        .field()
        .and_then(|(field, rule)| translate(i18n.lang(), field, rule))
        .map(str::to_owned)
        .unwrap_or_else(|| failure.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_of_the_contract_read_in_chinese() {
        for (message, chinese) in [
            ("user: is already taken", "该用户名已被占用"),
            ("phone: is already registered", "该手机号已被注册"),
            (
                "name: is already taken by a pending or approved business",
                "该名称已被一个待审批或已批准的业务占用",
            ),
            ("id: business 7 is deleted", "该业务已被删除"),
            ("id: nobody may delete itself", "不能对自己执行此操作"),
            (
                "role: only the system administrator may do this",
                "你的角色无权执行此操作",
            ),
            ("client_id: is not a registered application", "不是已登记的应用"),
            (
                "clientId: must be 24 hexadecimal digits",
                "须为 24 位十六进制数字",
            ),
            (
                "postLogoutRedirectUris: must list 0-10 URIs",
                "最多列出 10 个 URI",
            ),
            (
                "redirectUris: must not list https://a twice",
                "不能重复列出同一个 URI",
            ),
        ] {
            let (field, rule) = message.split_once(": ").unwrap();
            assert_eq!(translate(Lang::Zh, field, rule), Some(chinese), "{message}");
            assert_eq!(translate(Lang::En, field, rule), None, "{message}");
        }
    }

    #[test]
    fn broken_field_rules_read_as_the_forms_word_them() {
        let rule = crate::rules::Password::RULE;
        assert_eq!(
            translate(Lang::Zh, "password", rule),
            rule_text(Lang::Zh, "password")
        );
    }

    #[test]
    fn the_rules_of_applications_read_as_the_form_words_them() {
        assert_eq!(
            translate(Lang::Zh, "name", rules::ClientName::RULE),
            Some(text(Lang::Zh, T::ClientNameRule))
        );
        assert_eq!(
            translate(Lang::Zh, "redirectUris", rules::RedirectUri::RULE),
            Some(text(Lang::Zh, T::RedirectUriRule))
        );
        assert_eq!(text(Lang::En, T::RedirectUriRule), rules::RedirectUri::RULE);
    }

    #[test]
    fn anything_unmapped_keeps_the_servers_words() {
        assert_eq!(
            translate(Lang::Zh, "url", "must not point to a private address"),
            None
        );
    }
}
