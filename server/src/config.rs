//! Typed configuration from the environment (SPEC.md section 7), mirrored by flags.
//!
//! Each field names its variable in `value_name`, so clap's message for a bad value names
//! the variable; `Config::load` turns that message into the one line printed at start.

use app::rules::{Password, RuleError, UserName};
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};
use std::fmt;
use std::net::SocketAddr;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "ote-portal",
    version,
    about = "OTE Portal: users and businesses of a multi-tenant edge platform"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "LEPTOS_SITE_ADDR",
        value_name = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub site_addr: SocketAddr,

    /// `sqlite://PATH` (created and migrated on start) or `postgres://...`.
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "DATABASE_URL", default_value = "sqlite://data/ote.db", hide_env_values = true, value_parser = DatabaseUrl::parse)]
    pub database_url: DatabaseUrl,

    /// The first system administrator's name.
    #[arg(long, env = "OTE_ADMIN_USER", value_name = "OTE_ADMIN_USER", default_value = "admin", value_parser = rule(UserName::parse))]
    pub admin_user: UserName,

    /// Its password, used only when it is first created; generated and printed once if unset.
    #[arg(long, env = "OTE_ADMIN_PASSWORD", value_name = "OTE_ADMIN_PASSWORD", hide_env_values = true, value_parser = rule(Password::parse))]
    pub admin_password: Option<Password>,

    /// Token signing secret, at least 32 bytes; generated once and kept in the database if unset.
    #[arg(long, env = "OTE_JWT_SECRET", value_name = "OTE_JWT_SECRET", hide_env_values = true, value_parser = JwtSecret::parse)]
    pub jwt_secret: Option<JwtSecret>,

    #[command(flatten)]
    pub flags: PlatformFlags,

    #[command(flatten)]
    pub limits: LimitSettings,

    #[command(flatten)]
    pub accounts: AccountSettings,

    #[command(flatten)]
    pub webhooks: WebhookSettings,

    #[command(flatten)]
    pub oidc: OidcSettings,

    /// Where Prometheus scrapes `GET /metrics` (a listener of its own); unset, nothing is
    /// counted.
    #[arg(long, env = "OTE_METRICS_ADDR", value_name = "OTE_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Log lines as `text`, or `json` (one object per line, for log shippers).
    #[arg(
        long,
        env = "OTE_LOG_FORMAT",
        value_name = "OTE_LOG_FORMAT",
        default_value = "text",
        value_enum
    )]
    pub log_format: LogFormat,

    /// Without a command, the portal serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `OTE_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What the binary does: serve (the default), or one task for the person at the console
/// (`console`), on the database of `DATABASE_URL`, the server running or not.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serve the portal (what the binary does without a command).
    Serve,
    /// Account recovery: each is audited with the actor `cli`.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent copy of the live SQLite database to FILE (PostgreSQL: use pg_dump).
    Backup {
        /// The copy to write; it must not exist yet.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Set a generated password (printed once) and end the user's sessions and tokens.
    ResetPassword { name: String },
    /// Clear the user's login throttle (failed attempts of the last 15 minutes).
    Unlock { name: String },
    /// Turn off the user's two-factor sign-in and end its sessions.
    DisableTotp { name: String },
    /// Add a new signing key for ID and access tokens; the old one stays published until
    /// the tokens it signed have expired.
    RotateKeys,
}

/// The platform's identity provider (SPEC.md section 12).
#[derive(Debug, Clone, clap::Args)]
pub struct OidcSettings {
    /// The URL people reach the portal at, the tokens' issuer (no trailing slash); unset,
    /// `http://` and the address the portal listens on.
    #[arg(long, env = "OTE_PUBLIC_URL", value_name = "OTE_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,

    /// How long an access token or an ID token lives, in seconds.
    #[arg(long, env = "OTE_OAUTH_ACCESS_SECONDS", value_name = "OTE_OAUTH_ACCESS_SECONDS", default_value = "300", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub access_seconds: u64,

    /// How long an authorization code may wait for its exchange, in seconds.
    #[arg(long, env = "OTE_OAUTH_CODE_SECONDS", value_name = "OTE_OAUTH_CODE_SECONDS", default_value = "60", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub code_seconds: u64,

    /// How long a refresh token lives unused, in seconds (each use gives a new one).
    #[arg(long, env = "OTE_OAUTH_REFRESH_SECONDS", value_name = "OTE_OAUTH_REFRESH_SECONDS", default_value = "2592000", value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub refresh_seconds: u64,

    /// With `prompt=login`, how recent the sign-in must be, in seconds; older, the person
    /// signs in again.
    #[arg(long, env = "OTE_OAUTH_FRESH_LOGIN_SECONDS", value_name = "OTE_OAUTH_FRESH_LOGIN_SECONDS", default_value = "600", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub fresh_login_seconds: u64,
}

/// `OTE_PUBLIC_URL`: http or https, a host, no query, fragment or trailing slash.
fn public_url(raw: &str) -> Result<String, String> {
    let rule = "must be an http:// or https:// URL without a query, a fragment or a trailing slash";
    let parsed = url::Url::parse(raw).map_err(|_| rule.to_owned())?;
    let fine = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && !raw.ends_with('/');
    if fine {
        Ok(raw.to_owned())
    } else {
        Err(rule.to_owned())
    }
}

/// Where webhooks may point and how deliveries are retried (SPEC.md section 10).
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookSettings {
    /// Networks webhooks may point into (comma-separated CIDRs or addresses); unset, only
    /// public addresses. Set, it replaces that rule entirely.
    #[arg(long, env = "OTE_WEBHOOK_ALLOWED_NETWORKS", value_name = "OTE_WEBHOOK_ALLOWED_NETWORKS", value_parser = TrustedProxies::parse)]
    pub webhook_allowed_networks: Option<TrustedProxies>,

    /// How long a receiver has to answer, in milliseconds.
    #[arg(long, env = "OTE_WEBHOOK_TIMEOUT_MILLIS", value_name = "OTE_WEBHOOK_TIMEOUT_MILLIS", default_value = "10000", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub webhook_timeout_millis: u64,

    /// The first retry's delay in milliseconds; each next one doubles it (with jitter).
    #[arg(long, env = "OTE_WEBHOOK_RETRY_BASE_MILLIS", value_name = "OTE_WEBHOOK_RETRY_BASE_MILLIS", default_value = "5000", value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_retry_base_millis: u64,

    /// The longest delay between two attempts, in milliseconds.
    #[arg(long, env = "OTE_WEBHOOK_RETRY_MAX_MILLIS", value_name = "OTE_WEBHOOK_RETRY_MAX_MILLIS", default_value = "3600000", value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_retry_max_millis: u64,

    /// How long a delivery is retried before it is `failed`, in seconds (at least 24 hours
    /// by default).
    #[arg(long, env = "OTE_WEBHOOK_GIVE_UP_SECONDS", value_name = "OTE_WEBHOOK_GIVE_UP_SECONDS", default_value = "90000", value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_give_up_seconds: u64,

    /// How often the delivery worker looks for due deliveries when nothing wakes it
    /// (this process wakes it at each commit; other replicas' commits are found by this).
    #[arg(long, env = "OTE_WEBHOOK_POLL_MILLIS", value_name = "OTE_WEBHOOK_POLL_MILLIS", default_value = "500", value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_poll_millis: u64,
}

/// Two-factor sign-in and the intervals of sessions and tokens (SPEC.md section 9).
#[derive(Debug, Clone, clap::Args)]
pub struct AccountSettings {
    /// Who must sign in with a one-time code: `none`, `admins` (roles 3 and 4) or `all`
    /// (every approved user). Until they enrol, their tokens may only enrol.
    #[arg(
        long,
        env = "OTE_REQUIRE_TOTP",
        value_name = "OTE_REQUIRE_TOTP",
        default_value = "none",
        value_enum
    )]
    pub require_totp: TotpPolicy,

    /// Length of a one-time code's time step (RFC 6238 and every authenticator app: 30).
    #[arg(long, env = "OTE_TOTP_STEP_SECONDS", value_name = "OTE_TOTP_STEP_SECONDS", default_value = "30", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub totp_step_seconds: u64,

    /// How often a session's `lastSeenTime` and a personal token's `lastUsedTime` are
    /// written at most.
    #[arg(
        long,
        env = "OTE_SEEN_SECONDS",
        value_name = "OTE_SEEN_SECONDS",
        default_value = "60"
    )]
    pub seen_seconds: u64,

    /// How long a signed-in caller's row may be reused at most, in milliseconds (it is
    /// dropped sooner at any write this process hears of); 0 reads it on every request.
    #[arg(long, env = "OTE_CALLER_CACHE_MILLIS", value_name = "OTE_CALLER_CACHE_MILLIS", default_value = "1000", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub caller_cache_millis: u64,

    /// The window in which at most 10 wrong one-time codes are checked per name (or per
    /// signed-in browser); a successful login does not clear it. Seconds.
    #[arg(long, env = "OTE_CODE_FAILURE_WINDOW_SECONDS", value_name = "OTE_CODE_FAILURE_WINDOW_SECONDS", default_value = "86400", value_parser = clap::value_parser!(u64).range(60..=2_592_000))]
    pub code_failure_window_seconds: u64,

    /// How long a browser that signed in keeps its device cookie, which lets it sign in
    /// while others have locked its name (OWASP device cookies). Days.
    #[arg(long, env = "OTE_DEVICE_COOKIE_DAYS", value_name = "OTE_DEVICE_COOKIE_DAYS", default_value = "180", value_parser = clap::value_parser!(u64).range(1..=730))]
    pub device_cookie_days: u64,
}

/// `OTE_REQUIRE_TOTP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TotpPolicy {
    None,
    Admins,
    All,
}

/// How much work one client may ask for, and who may say which client it is
/// (SPEC.md section 8; README "Security").
#[derive(Debug, Clone, clap::Args)]
pub struct LimitSettings {
    /// Password work (login, register, create user, change or reset a password) each
    /// client address may ask for per minute; 0 turns the limit off.
    #[arg(
        long,
        env = "OTE_RATE_PASSWORD_PER_MINUTE",
        value_name = "OTE_RATE_PASSWORD_PER_MINUTE",
        default_value = "60"
    )]
    pub rate_password_per_minute: u32,

    /// Proxies whose `X-Forwarded-For` is believed: comma-separated addresses or CIDRs.
    #[arg(long, env = "OTE_TRUSTED_PROXIES", value_name = "OTE_TRUSTED_PROXIES", default_value = "", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,

    /// Password checks that may wait for a hashing thread; beyond them the answer is 503.
    #[arg(long, env = "OTE_PASSWORD_QUEUE", value_name = "OTE_PASSWORD_QUEUE", default_value = "32", value_parser = clap::value_parser!(u32).range(1..))]
    pub password_queue: u32,

    /// Send `Strict-Transport-Security` (only behind HTTPS).
    #[arg(long, env = "OTE_HSTS", value_name = "OTE_HSTS", default_value = "false", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub hsts: bool,

    /// How often expired throttle rows, revocations and idle rate-limit buckets are purged.
    #[arg(long, env = "OTE_SWEEP_SECONDS", value_name = "OTE_SWEEP_SECONDS", default_value = "60", value_parser = clap::value_parser!(u64).range(1..))]
    pub sweep_seconds: u64,
}

/// Networks of trusted proxies (`OTE_TRUSTED_PROXIES`); a bare address is a network of one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl TrustedProxies {
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("'{part}' is neither an IP address nor a CIDR network"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, addr: std::net::IpAddr) -> bool {
        let addr = crate::net::canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }
}

/// The four platform flags `GET /v1/authorization` reports.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct PlatformFlags {
    #[arg(long, env = "OTE_PRIVATE_PROJECT", value_name = "OTE_PRIVATE_PROJECT", default_value = "false", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub private_project: bool,
    #[arg(long, env = "OTE_ENABLE_INGRESS", value_name = "OTE_ENABLE_INGRESS", default_value = "false", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub enable_ingress: bool,
    #[arg(long, env = "OTE_ENABLE_ALERT", value_name = "OTE_ENABLE_ALERT", default_value = "false", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub enable_alert: bool,
    #[arg(long, env = "OTE_ENABLE_ADMIN_AUTO_DEPLOY", value_name = "OTE_ENABLE_ADMIN_AUTO_DEPLOY", default_value = "false", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub enable_admin_auto_deploy: bool,
}

/// Adapts a field rule of `app::rules` to a clap value parser.
fn rule<T>(parse: fn(&str) -> Result<T, RuleError>) -> impl Fn(&str) -> Result<T, String> + Clone {
    move |raw| parse(raw).map_err(|e| e.to_string())
}

impl Config {
    /// Reads flags and environment. `Err` is the one line to print before exiting;
    /// `--help` and `--version` print and exit here.
    pub fn load() -> Result<Self, String> {
        Self::try_parse().map_err(one_line)
    }

    /// Reads the given flags and the environment, as `load` does for the process.
    pub fn load_from<I, T>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args).map_err(one_line)
    }
}

fn one_line(err: clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        err.exit();
    }
    let rendered = err.to_string();
    let first = rendered.lines().next().unwrap_or_default();
    format!("configuration: {}", first.trim_start_matches("error: "))
}

/// Where the data lives; `Display` masks any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Self(raw.trim().to_owned());
        url.dialect().map(|_| url)
    }

    pub fn dialect(&self) -> Result<Dialect, String> {
        match self.0.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Dialect::Sqlite),
            Some("postgres" | "postgresql") => Ok(Dialect::Postgres),
            _ => Err("must start with sqlite:// or postgres://".into()),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    /// Everything secret masked: `postgres://user:secret@host/db?password=x` shows as
    /// `postgres://user:***@host/db?password=***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.0;
        let Some((scheme, rest)) = url.split_once("://") else {
            return f.write_str(url);
        };
        // The user info ends at the last `@`: a password may hold `@`, `/`, `?` or `:`.
        // (An `@` further right only masks more.)
        let (userinfo, after) = match rest.rsplit_once('@') {
            Some((userinfo, after)) => (Some(userinfo), after),
            None => (None, rest),
        };
        let (location, query) = match after.split_once('?') {
            Some((location, query)) => (location, Some(query)),
            None => (after, None),
        };
        match userinfo {
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, _)) => write!(f, "{scheme}://{user}:***@{location}")?,
                None => write!(f, "{scheme}://{userinfo}@{location}")?,
            },
            None => write!(f, "{scheme}://{location}")?,
        }
        if let Some(query) = query {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.to_ascii_lowercase().contains("pass") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            write!(f, "?{}", pairs.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The HS256 key; never shown.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub const MIN_BYTES: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() < Self::MIN_BYTES {
            return Err(format!("must be at least {} bytes", Self::MIN_BYTES));
        }
        Ok(Self(raw.as_bytes().to_vec()))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<Config, String> {
        Config::load_from(std::iter::once("ote-portal").chain(args.iter().copied()))
    }

    #[test]
    fn a_bad_value_is_reported_in_one_line_naming_its_variable() {
        let err = load(&["--site-addr", "nowhere"]).unwrap_err();
        assert!(err.contains("LEPTOS_SITE_ADDR") && !err.contains('\n'), "{err}");
        let err = load(&["--jwt-secret", "short"]).unwrap_err();
        assert!(
            err.contains("OTE_JWT_SECRET") && err.contains("at least 32 bytes"),
            "{err}"
        );
        let err = load(&["--database-url", "mysql://x"]).unwrap_err();
        assert!(err.contains("DATABASE_URL"), "{err}");
        let err = load(&["--admin-password", "weak"]).unwrap_err();
        assert!(
            err.contains("OTE_ADMIN_PASSWORD") && err.contains("uppercase"),
            "{err}"
        );
        let err = load(&["--enable-alert", "maybe"]).unwrap_err();
        assert!(err.contains("OTE_ENABLE_ALERT"), "{err}");
        let err = load(&["--trusted-proxies", "10.0.0.0/8,proxy"]).unwrap_err();
        assert!(
            err.contains("OTE_TRUSTED_PROXIES") && err.contains("'proxy'"),
            "{err}"
        );
        let err = load(&["--rate-password-per-minute=-1"]).unwrap_err();
        assert!(err.contains("OTE_RATE_PASSWORD_PER_MINUTE"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8, 192.0.2.7 ,::1").unwrap();
        assert!(proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(proxies.contains("192.0.2.7".parse().unwrap()));
        assert!(!proxies.contains("192.0.2.8".parse().unwrap()));
        assert!(proxies.contains("::1".parse().unwrap()));
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
    }

    #[test]
    fn database_urls_hide_their_password() {
        let url = DatabaseUrl::parse("postgres://ote:s3cret@db:5432/ote").unwrap();
        assert_eq!(url.to_string(), "postgres://ote:***@db:5432/ote");
        assert_eq!(url.dialect(), Ok(Dialect::Postgres));
        let url = DatabaseUrl::parse("sqlite://data/ote.db").unwrap();
        assert_eq!(url.to_string(), "sqlite://data/ote.db");
        for (raw, shown) in [
            // A password holding `@`, `?` or `/`: nothing of it shows.
            ("postgres://ote:p@ss?w/rd@db/ote", "postgres://ote:***@db/ote"),
            (
                "postgres://ote:s3cret@db/ote?sslmode=require&password=s3cret",
                "postgres://ote:***@db/ote?sslmode=require&password=***",
            ),
            (
                "postgres://db/ote?user=ote&password=s3cret",
                "postgres://db/ote?user=ote&password=***",
            ),
            (
                "postgres://db/ote?sslpassword=s3cret",
                "postgres://db/ote?sslpassword=***",
            ),
        ] {
            let url = DatabaseUrl::parse(raw).unwrap();
            assert_eq!(url.to_string(), shown, "{raw}");
            assert!(!format!("{url:?}").contains("s3cret") && !format!("{url:?}").contains("ss?w"));
        }
    }
}
