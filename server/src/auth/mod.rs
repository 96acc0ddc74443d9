//! Who is calling: the extractors that turn a request into a caller with a role
//! (`caller`, kept in `callers`, scoped by `scope`, admitted by `access`), and the
//! credentials behind them: passwords and login throttling, JWTs (`token`), sessions and
//! what ends them (`session`), personal tokens (`personal`), the second factor, browsers' device
//! cookies (`device`), the identity provider's signing keys (`keys`), and the
//! random secrets and digests they are kept as (`secret`).

pub mod access;
pub mod caller;
pub mod callers;
pub mod device;
pub mod keys;
pub mod password;
pub mod personal;
pub mod scope;
pub mod second_factor;
pub mod secret;
pub mod session;
pub mod throttle;
pub mod token;

pub use caller::{Admin, Approved, Caller, SystemAdmin};
