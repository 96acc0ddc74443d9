//! Which users and audit entries an admin may see and manage. This is the one place
//! that says a business admin sees only its own business.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Business(i64),
}

impl Scope {
    /// The SQL condition keeping rows of this scope: `column = placeholder`, whose value
    /// `business()` gives (bind it always: the text leaves the placeholder out when the
    /// scope is everything).
    pub fn filter(self, column: &str, placeholder: &str) -> String {
        match self {
            Scope::Everything => "1 = 1".into(),
            Scope::Business(_) => format!("{column} = {placeholder}"),
        }
    }

    pub fn business(self) -> Option<i64> {
        match self {
            Scope::Everything => None,
            Scope::Business(id) => Some(id),
        }
    }
}
