//! The portal's two languages, English and Simplified Chinese. The choice lives in the
//! `ote_lang` cookie, so the server renders each page in it and the browser keeps it.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

pub const COOKIE: &str = "ote_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    fn from_cookie_header(header: &str) -> Self {
        let value = header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE);
        match value {
            Some((_, "zh-CN")) => Lang::Zh,
            _ => Lang::En,
        }
    }

    /// The language of this request (server) or page (browser).
    fn detect() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| {
                    parts
                        .headers
                        .get(http::header::COOKIE)?
                        .to_str()
                        .ok()
                        .map(Self::from_cookie_header)
                })
                .unwrap_or_default()
        }
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            document()
                .dyn_into::<web_sys::HtmlDocument>()
                .ok()
                .and_then(|doc| doc.cookie().ok())
                .map(|cookie| Self::from_cookie_header(&cookie))
                .unwrap_or_default()
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            Lang::En
        }
    }
}

/// The current language, as a context every component reads.
#[derive(Clone, Copy)]
pub struct I18n(pub RwSignal<Lang>);

pub fn provide_i18n() -> I18n {
    let i18n = I18n(RwSignal::new(Lang::detect()));
    provide_context(i18n);
    i18n
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

impl I18n {
    pub fn lang(self) -> Lang {
        self.0.get()
    }

    /// A reactive translation, for use in views: `{i18n.t(T::SignIn)}`.
    pub fn t(self, key: T) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        move || text(self.0.get(), key)
    }

    /// The translation now (in event handlers and formatted strings).
    pub fn now(self, key: T) -> &'static str {
        text(self.0.get_untracked(), key)
    }

    /// A translation with `{}` replaced by `value` ("alice approved").
    pub fn fill(self, key: T, value: impl std::fmt::Display) -> String {
        self.now(key).replace("{}", &value.to_string())
    }

    /// `fill`, reactive (in views).
    pub fn fill_t(self, key: T, value: impl std::fmt::Display) -> String {
        text(self.0.get(), key).replace("{}", &value.to_string())
    }

    pub fn set(self, lang: Lang) {
        self.0.set(lang);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
                let _ = doc.set_cookie(&format!(
                    "{COOKIE}={}; path=/; max-age=31536000; samesite=lax",
                    lang.code()
                ));
                if let Some(root) = doc.document_element() {
                    let _ = root.set_attribute("lang", lang.code());
                }
            }
        }
    }
}

/// Declares the text keys and both translations side by side.
macro_rules! texts {
    ($($key:ident => $en:expr, $zh:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T { $($key),* }

        pub fn text(lang: Lang, key: T) -> &'static str {
            match lang {
                Lang::En => match key { $(T::$key => $en),* },
                Lang::Zh => match key { $(T::$key => $zh),* },
            }
        }
    };
}

texts! {
    Portal => "OTE Portal", "OTE 门户";
    Language => "Language", "语言";
    SkipToContent => "Skip to content", "跳到正文";
    Loading => "Loading…", "加载中…";
    SignIn => "Sign in", "登录";
    SignOut => "Sign out", "退出";
    Register => "Register", "注册";
    CreateAccount => "Create an account", "创建账号";
    HaveAccount => "Already registered?", "已有账号？";
    NoAccount => "No account yet?", "还没有账号？";
    UserName => "User name", "用户名";
    Password => "Password", "密码";
    NewPassword => "New password", "新密码";
    OldPassword => "Current password", "当前密码";
    Phone => "Phone", "手机号";
    RealName => "Real name", "真实姓名";
    IsAdmin => "I will administer a team (request a business)", "我将管理团队（申请业务）";
    AdminFlag => "Administrator", "管理员";
    Show => "Show", "显示";
    Hide => "Hide", "隐藏";
    WrongCredentials => "User name or password is incorrect.", "用户名或密码错误。";
    Throttled => "Too many failed sign-ins. Try again in", "登录失败次数过多，请稍后再试，剩余";
    Seconds => "seconds", "秒";
    SessionEnded => "Your session has ended. Please sign in again.", "会话已结束，请重新登录。";
    PasswordChangedSignIn => "Password changed. Please sign in with the new one.", "密码已修改，请用新密码登录。";
    RuleLength => "8-20 characters", "8-20 个字符";
    RuleUpper => "an uppercase letter", "一个大写字母";
    RuleLower => "a lowercase letter", "一个小写字母";
    RuleDigit => "a digit", "一个数字";
    PasswordMustHave => "The password needs:", "密码需要包含：";
    Awaiting => "Awaiting approval", "等待审批";
    AwaitingText => "Your registration is in. The system administrator will review it; you can sign in meanwhile, but nothing else opens until it is approved.", "注册已提交。系统管理员审核通过前，你可以登录，但无法使用其他功能。";
    Home => "Home", "首页";
    Users => "Users", "用户";
    Business => "Business", "业务";
    BusinessIdHint => "Optional: the ID of a pending or approved business", "可选：待审批或已批准业务的 ID";
    Businesses => "Businesses", "业务";
    AuditLog => "Audit log", "审计日志";
    Role => "Role", "角色";
    Status => "Status", "状态";
    Role0 => "Awaiting approval", "待审批";
    Role1 => "General admin", "普通管理员";
    Role2 => "General user", "普通用户";
    Role3 => "Business admin", "业务管理员";
    Role4 => "System administrator", "系统管理员";
    UserStatus0 => "Pending", "待审批";
    UserStatus1 => "Approved", "已批准";
    UserStatus2 => "Not approved", "未批准";
    UserStatus3 => "Forbidden", "已禁用";
    BusinessStatus0 => "Pending", "待审批";
    BusinessStatus1 => "Approved", "已批准";
    BusinessStatus2 => "Disapproved", "未批准";
    BusinessStatus3 => "Deleted", "已删除";
    PlatformFlags => "Platform", "平台";
    FlagPrivateProject => "Private projects", "私有项目";
    FlagIngress => "Ingress", "Ingress";
    FlagAlert => "Alerts", "告警";
    FlagAutoDeploy => "Admin auto-deploy", "管理员自动部署";
    RepoAccount => "Repository account", "仓库账号";
    On => "on", "开";
    Off => "off", "关";
    Yes => "yes", "是";
    No => "no", "否";
    ChangePassword => "Change password", "修改密码";
    Cancel => "Cancel", "取消";
    Confirm => "Confirm", "确认";
    Id => "ID", "ID";
    Created => "Created", "创建时间";
    Updated => "Updated", "更新时间";
    Actions => "Actions", "操作";
    Approve => "Approve", "批准";
    Reject => "Reject", "拒绝";
    Forbid => "Forbid", "禁用";
    ResetPassword => "Reset password", "重置密码";
    Delete => "Delete", "删除";
    Search => "Search by name", "按名称搜索";
    AllStatuses => "All statuses", "全部状态";
    PendingQueue => "Pending queue", "待审批队列";
    PageSize => "Per page", "每页";
    Previous => "Previous", "上一页";
    Next => "Next", "下一页";
    Total => "total", "条";
    NothingHere => "Nothing here yet.", "暂无数据。";
    CreateUser => "Create a user", "创建用户";
    UserCreated => "User created.", "用户已创建。";
    ConfirmDelete => "Delete this user? This cannot be undone.", "删除该用户？此操作不可撤销。";
    ConfirmForbid => "Forbid this user? Their sessions end at once.", "禁用该用户？其会话将立即结束。";
    ConfirmReset => "Set a new password for", "为以下用户设置新密码：";
    Done => "Done.", "完成。";
    RequestBusiness => "Request a business", "申请业务";
    BusinessName => "Business name", "业务名称";
    Introduce => "Introduction", "简介";
    Objective => "Objective", "目标";
    Scale => "Scale", "规模";
    Comment => "Comment", "审核意见";
    Owner => "Owner", "所有者";
    MyBusiness => "My business", "我的业务";
    Disapprove => "Disapprove", "不批准";
    ConfirmDeleteBusiness => "Delete this business? Its members leave it.", "删除该业务？其成员将离开该业务。";
    Requested => "Requested. The system administrator will review it.", "已提交申请，等待系统管理员审核。";
    NoBusinessYet => "You have no business yet.", "你还没有业务。";
    Back => "Back", "返回";
    Action => "Action", "动作";
    Actor => "By", "操作人";
    Target => "Target", "对象";
    Detail => "Detail", "详情";
    Time => "Time", "时间";
    ActorName => "By (user name)", "操作人（用户名）";
    TargetType => "Target type", "对象类型";
    TargetId => "Target ID", "对象 ID";
    AllTypes => "All types", "全部类型";
    TargetUser => "User", "用户";
    TargetBusiness => "Business", "业务";
    TargetToken => "Token", "令牌";
    TargetWebhook => "Webhook", "Webhook";
    FromDate => "From (UTC)", "起始日期（UTC）";
    ToDate => "To (UTC, inclusive)", "截止日期（UTC，含当天）";
    ActionHint => "An action such as user.audit, or a prefix such as business.*", "动作（如 user.audit）或前缀（如 business.*）";
    ActionRule => "must be an action such as user.audit, or a prefix such as business.*", "须为动作（如 user.audit）或前缀（如 business.*）";
    IdRule => "must be a whole number from 1", "须为不小于 1 的整数";
    DateOrderRule => "must not be before the start date", "不能早于起始日期";
    DateRule => "must be a date", "须为日期";
    ClearFilters => "Clear filters", "清除筛选";
    DownloadCsv => "Download CSV", "下载 CSV";
    Filters => "Filters", "筛选";
    NotFound => "Page not found", "页面不存在";
    BackToPortal => "Back to the portal", "返回门户";
    SomethingWrong => "Something went wrong:", "出错了：";
    Required => "is required", "为必填项";
    NoControlCharacters => "must not contain control characters", "不能包含控制字符";
    Security => "Security", "安全";
    TwoFactor => "Two-factor sign-in", "两步验证";
    TwoFactorOn => "On: signing in asks for a one-time code from your authenticator app.", "已开启：登录时需要输入身份验证器应用中的一次性验证码。";
    TwoFactorOff => "Off: your password alone signs you in.", "未开启：仅凭密码即可登录。";
    SetUpTwoFactor => "Set up two-factor sign-in", "设置两步验证";
    ScanCode => "Scan this code with an authenticator app, or type the key below, then enter the 6-digit code it shows.", "用身份验证器应用扫描此二维码，或手动输入下方密钥，然后填写应用显示的 6 位验证码。";
    SecretKey => "Key", "密钥";
    OneTimeCode => "One-time code", "一次性验证码";
    CodeHint => "6 digits from your authenticator app, or a recovery code", "身份验证器应用中的 6 位数字，或一个恢复码";
    CodeNeeded => "Enter the one-time code from your authenticator app.", "请输入身份验证器应用中的一次性验证码。";
    CodeInvalid => "The code is not valid or was used already.", "验证码无效或已被使用。";
    TurnOn => "Turn on", "开启";
    TurnOff => "Turn off", "关闭";
    RecoveryCodes => "Recovery codes", "恢复码";
    RecoveryCodesText => "Each code signs you in once without your phone. Keep them somewhere safe: they are shown only now.", "每个恢复码可在没有手机时登录一次。请妥善保存：它们只显示这一次。";
    Copy => "Copy", "复制";
    Copied => "Copied.", "已复制。";
    Download => "Download", "下载";
    Sessions => "Sessions", "会话";
    Device => "Device", "设备";
    Address => "Address", "地址";
    LastSeen => "Last seen", "最近活动";
    ThisDevice => "this device", "当前设备";
    End => "End", "结束";
    EndOthers => "End all other sessions", "结束其他所有会话";
    BrowserOnSystem => "{browser} on {system}", "{system} 上的 {browser}";
    SomeBrowser => "Browser", "浏览器";
    UnknownDevice => "Unknown device", "未知设备";
    PersonalTokens => "Personal access tokens", "个人访问令牌";
    TokenName => "Token name", "令牌名称";
    ExpiresInDays => "Expires in (days)", "有效期（天）";
    Scope => "Scope", "权限";
    ScopeRead => "read (GET only)", "只读（仅 GET）";
    ScopeWrite => "read and write", "读写";
    CreateToken => "Create token", "创建令牌";
    TokenShownOnce => "Copy the token now: it is shown only this once.", "请立即复制令牌：它只显示这一次。";
    Expires => "Expires", "过期时间";
    Never => "never", "从未";
    Revoke => "Revoke", "撤销";
    ResetTwoFactor => "Reset two-factor", "重置两步验证";
    ConfirmResetTwoFactor => "Turn off two-factor sign-in for this user and end their sessions?", "为该用户关闭两步验证并结束其会话？";
    Webhooks => "Webhooks", "Webhooks";
    WebhooksText => "Every change of users and businesses is sent, signed, to these endpoints (Standard Webhooks), in order, at least once.", "用户和业务的每次变更都会按顺序、至少一次、带签名地发送到这些端点（Standard Webhooks）。";
    Url => "URL", "URL";
    UrlHint => "http:// or https://; where it may point depends on the server's settings", "http:// 或 https://；可指向的地址取决于服务器设置";
    Events => "Events", "事件";
    EventsHint => "* for all, or actions and prefixes, comma-separated: business.*, user.audit", "* 表示全部，或以逗号分隔的动作和前缀：business.*, user.audit";
    EventsRule => "must list 1-32 patterns: *, an action such as user.audit, or a prefix such as business.*", "须列出 1-32 个模式：*、动作（如 user.audit）或前缀（如 business.*）";
    Description => "Description", "说明";
    Enabled => "enabled", "已启用";
    Disabled => "disabled", "已停用";
    Enable => "Enable", "启用";
    Disable => "Disable", "停用";
    Deliveries => "Deliveries", "投递记录";
    Edit => "Edit", "编辑";
    Save => "Save", "保存";
    ConfirmDeleteWebhook => "Delete this endpoint and its deliveries?", "删除该端点及其投递记录？";
    AddWebhook => "Add an endpoint", "添加端点";
    Secret => "Signing secret", "签名密钥";
    SecretShownOnce => "Copy the signing secret now: it is shown only this once.", "请立即复制签名密钥：它只显示这一次。";
    Attempts => "Attempts", "尝试次数";
    LastAnswer => "Last answer", "最近响应";
    NextAttempt => "Next attempt", "下次尝试";
    DeliveryPending => "pending", "待投递";
    DeliveryDelivered => "delivered", "已投递";
    DeliveryFailed => "failed", "失败";
    SendAgain => "Send again", "重新发送";
    EnrolmentRequired => "Your role requires two-factor sign-in. Set it up below to continue.", "你的角色要求开启两步验证。请在下方完成设置后继续。";
    NameApproved => "{} approved", "{} 已批准";
    NameRejected => "{} rejected", "{} 已拒绝";
    NameForbidden => "{} forbidden", "{} 已禁用";
    NameDeleted => "{} deleted", "{} 已删除";
    NamePasswordReset => "Password of {} reset", "{} 的密码已重置";
    NameTwoFactorReset => "Two-factor sign-in of {} turned off", "{} 的两步验证已关闭";
    NameCreated => "{} created", "{} 已创建";
    WaitingForYou => "Waiting for you", "等待你处理";
    PendingUsers => "Pending users", "待审批用户";
    PendingBusinesses => "Pending businesses", "待审批业务";
    OldestWaiting => "the oldest waiting for {}", "最早的已等待 {}";
    NobodyWaits => "nobody waits", "无人等待";
    LessThanAMinute => "less than a minute", "不到一分钟";
    Minutes => "{} minutes", "{} 分钟";
    Hours => "{} hours", "{} 小时";
    Days => "{} days", "{} 天";
    CountPending => "{} pending", "{} 个待审批";
    Members => "Members", "成员";
    PendingRequests => "Pending requests", "待处理的申请";
    BusinessPickerHint => "Optional: type part of a name, then choose a pending or approved business", "可选：输入名称的一部分，然后选择一个待审批或已批准的业务";
    NoMatchingBusiness => "No pending or approved business matches", "没有匹配的待审批或已批准业务";
    NoBusinessChosen => "No business", "不属于任何业务";
    Menu => "Menu", "菜单";
    NoRole => "none", "无";
    Applications => "Applications", "应用";
    ApplicationsText => "Applications that sign people in through the portal (OpenID Connect): the cluster's API server, the registry, dashboards. Each has a client ID; a confidential one also a secret.", "通过门户让用户登录的应用（OpenID Connect）：集群的 API Server、镜像仓库、仪表盘等。每个应用有一个客户端 ID，机密客户端还有一个密钥。";
    ApplicationName => "Name", "名称";
    ClientId => "Client ID", "客户端 ID";
    ClientSecret => "Client secret", "客户端密钥";
    ClientType => "Type", "类型";
    PublicType => "public", "公开";
    ConfidentialType => "confidential", "机密";
    RedirectUris => "Redirect URIs", "重定向 URI";
    PostLogoutRedirectUris => "Post-logout redirect URIs", "退出后重定向 URI";
    UrisHint => "One per line: https://, or http:// on localhost, 127.0.0.1 or [::1]; matched exactly", "每行一个：https://，或 localhost、127.0.0.1、[::1] 上的 http://；须完全一致";
    PublicClient => "Public client", "公开客户端";
    PublicClientHint => "A command-line tool or a single-page app: no secret, PKCE required", "命令行工具或单页应用：没有密钥，必须使用 PKCE";
    ApplicationEnabled => "Enabled", "已启用";
    AddApplication => "Add an application", "添加应用";
    ClientSecretShownOnce => "Copy the client secret now: it is shown only this once.", "请立即复制客户端密钥：它只显示这一次。";
    PublicClientNoSecret => "A public client has no secret: it signs in with PKCE.", "公开客户端没有密钥：它通过 PKCE 登录。";
    ConfirmDeleteApplication => "Delete this application? Its sign-ins and tokens end.", "删除该应用？其登录和令牌将全部失效。";
    ClientNameRule => crate::rules::ClientName::RULE, "须为 1-64 个字符，且不能包含控制字符";
    RedirectUriRule => crate::rules::RedirectUri::RULE, "须为主机名（字母、数字、'.' 和 '-'）上的 https://，或 localhost、127.x.x.x、[::1] 上的 http://；可带端口（0-65535），路径和查询最多 481 个字符，不能包含 #、空格或控制字符";
    RedirectUrisCount => "must list 1-10 URIs", "须列出 1-10 个 URI";
    PostLogoutUrisCount => "must list 0-10 URIs", "最多列出 10 个 URI";
    UriTwice => "must not list {} twice", "不能重复列出 {}";
    WantsToSignYouIn => "{} wants to sign you in", "{} 请求使用你的门户账号登录";
    ItWillLearn => "It will learn:", "它将获得：";
    ScopeOpenid => "your user ID and user name", "你的用户 ID 和用户名";
    ScopeProfile => "your real name", "你的真实姓名";
    ScopePhone => "your phone number", "你的手机号";
    ScopeGroups => "your business and your role", "你所属的业务和你的角色";
    ScopeOfflineAccess => "to stay signed in (it may renew its sign-in without asking you)", "保持登录（无需再次询问即可续期）";
    Allow => "Allow", "允许";
    Deny => "Deny", "拒绝";
    SignedInAs => "Signed in as {}", "当前登录：{}";
    SignInToContinue => "Sign in to continue to {}", "登录以继续使用 {}";
    SignInAgainFor => "{} asks you to sign in again.", "{} 要求你重新登录。";
    AuthorizeFailed => "This sign-in request cannot be completed", "无法完成此登录请求";
    BackToApplication => "Returning to the application…", "正在返回应用…";
    AllowedApplications => "Allowed applications", "已授权的应用";
    AllowedApplicationsText => "These applications may sign you in without asking again, until you revoke them.", "这些应用无需再次询问即可让你登录，直到你撤销授权。";
    Application => "Application", "应用";
    ItLearns => "It learns", "可获得的信息";
    AllowedSince => "Allowed", "授权时间";
}
