//! The identity provider's pages (SPEC.md section 12): the consent page an application
//! sends people to (`consent`), and the system administrator's applications
//! (`applications`). The applications a user has allowed are on the Security page.

mod applications;
mod consent;

pub use applications::Applications;
pub use consent::Consent;
