//! The API suite: every test starts the real server on port 0 with a fresh database and
//! talks HTTP to it. One test binary, so the suite links once.

mod accounts;
mod attack;
mod audit_search;
mod common;
mod console_ui;
mod foundation;
mod login;
mod matrix;
mod oidc;
mod openapi;
mod operations;
mod rules;
mod story;
mod tokens;
mod webhooks;
