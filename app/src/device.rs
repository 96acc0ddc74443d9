//! A session's device as a person reads it ("Chrome on Linux", "curl") from the raw
//! `User-Agent` the server recorded. Only the well-known browsers and systems are told
//! apart; a program that names itself (curl, python-requests ...) reads as its own name,
//! anything else as an unknown device. The raw text stays at hand for the page's tooltip.

use crate::i18n::{Lang, T, text};

/// What the sessions list shows for `user_agent`, in `lang`.
pub fn device_name(lang: Lang, user_agent: &str) -> String {
    let agent = user_agent.trim();
    if !agent.starts_with("Mozilla/") && !agent.starts_with("Opera/") {
        return match program(agent) {
            Some(name) => name.to_owned(),
            None => text(lang, T::UnknownDevice).to_owned(),
        };
    }
    match (browser(agent), system(agent)) {
        (Some(browser), Some(system)) => text(lang, T::BrowserOnSystem)
            .replace("{browser}", browser)
            .replace("{system}", system),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => text(lang, T::BrowserOnSystem)
            .replace("{browser}", text(lang, T::SomeBrowser))
            .replace("{system}", system),
        (None, None) => text(lang, T::UnknownDevice).to_owned(),
    }
}

/// The first product of a program's agent ("curl" of "curl/8.5.0"), if it reads as a name.
fn program(agent: &str) -> Option<&str> {
    let name = agent.split(['/', ' ', '(']).next()?;
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (plain && (1..=40).contains(&name.len()) && name.starts_with(|c: char| c.is_ascii_alphabetic()))
        .then_some(name)
}

/// The browser of a browser's agent. Most agents name several ("Chrome ... Safari"), so
/// the most specific tokens are looked for first.
fn browser(agent: &str) -> Option<&'static str> {
    let has = |token: &str| agent.contains(token);
    Some(if has("Edg/") || has("EdgA/") || has("EdgiOS/") || has("Edge/") {
        "Edge"
    } else if has("OPR/") || has("OPiOS/") || has("Opera") {
        "Opera"
    } else if has("SamsungBrowser/") {
        "Samsung Internet"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chromium/") {
        "Chromium"
    } else if has("Chrome/") || has("CriOS/") {
        // HeadlessChrome/ too.
        "Chrome"
    } else if has("Trident/") || has("MSIE ") {
        "Internet Explorer"
    } else if has("Safari/") || (has("AppleWebKit/") && has("Mobile/")) {
        "Safari"
    } else {
        return None;
    })
}

/// The operating system of a browser's agent. iOS agents say "like Mac OS X" and Android
/// ones "Linux", so those two come first.
fn system(agent: &str) -> Option<&'static str> {
    let has = |token: &str| agent.contains(token);
    Some(if has("iPhone") || has("iPad") || has("iPod") {
        "iOS"
    } else if has("Android") {
        "Android"
    } else if has("Windows") {
        "Windows"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Macintosh") || has("Mac OS X") {
        "macOS"
    } else if has("Linux") || has("X11") {
        "Linux"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::device_name;
    use crate::i18n::Lang;

    /// Agents as they come, and what the list shows for them in English.
    const AGENTS: &[(&str, &str)] = &[
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/83.0.4103.61 Chrome/83.0.4103.61 Safari/537.36",
            "Chromium on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        // An app's web view on an iPad: no "Safari/" token.
        (
            "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.134 Mobile/15E148 Safari/604.1",
            "Chrome on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) Gecko/20100101",
            "Browser on Windows",
        ),
        // Programs read as their own names.
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32.3", "python-requests"),
        ("Wget/1.21.4", "Wget"),
        ("Go-http-client/1.1", "Go-http-client"),
        // Anything else.
        ("", "Unknown device"),
        ("   ", "Unknown device"),
        ("Mozilla/5.0 (compatible; something)", "Unknown device"),
        ("<script>alert(1)</script>", "Unknown device"),
    ];

    #[test]
    fn agents_read_as_browser_and_system_or_program() {
        for (agent, shown) in AGENTS {
            assert_eq!(device_name(Lang::En, agent), *shown, "{agent:?}");
        }
    }

    #[test]
    fn chinese_puts_the_system_first() {
        assert_eq!(
            device_name(
                Lang::Zh,
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
            ),
            "Windows 上的 Firefox"
        );
        assert_eq!(device_name(Lang::Zh, ""), "未知设备");
        assert_eq!(device_name(Lang::Zh, "curl/8.5.0"), "curl");
    }
}
