//! Who is calling: passwords, tokens, login throttling, and the extractors that turn a
//! request into a caller with a role.

pub mod access;
pub mod caller;
pub mod password;
pub mod throttle;
pub mod token;

pub use caller::{Admin, Approved, Caller, SystemAdmin};
