//! What handlers share about the portal's things: rows as stored, their views as the API
//! shows them, and the checks and changes more than one door makes (a handler, the
//! console, the outbox, the next area). Nothing here knows of a route.

pub mod business;
pub mod queue;
pub mod user;
