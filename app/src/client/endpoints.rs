//! One function an endpoint of `/v1` the pages use, named for what it does: the paths are
//! written here and nowhere else. Each only describes its request; `Call` sends it.

use super::{Call, Failure, Method, with_query};
use crate::model::{
    AllowedApplication, AuditEntry, AuditQuery, Authorization, AuthorizeAnswer, AuthorizeDecision, Business,
    BusinessAudit, BusinessQuery, Client, ClientChange, Created, CreatedClient, CreatedToken, CreatedWebhook,
    Credentials, Delivery, NewBusiness, NewClient, NewPersonalToken, NewUser, NewWebhook, PageQuery,
    PasswordChange, PasswordReset, PersonalToken, Queue, RecoveryCodes, Session, TotpCode, TotpDisable,
    TotpEnrolment, User, UserAudit, UserQuery, Webhook, WebhookChange,
};
use std::future::Future;

pub(super) const AUTHORIZATION: &str = "/v1/authorization";

/// Signs in; the token comes in the envelope.
pub fn sign_in(credentials: &Credentials) -> Call<()> {
    Call::new(Method::Post, AUTHORIZATION.into())
        .with(credentials)
        .anonymous()
}

/// Who the stored token belongs to.
pub fn current_user() -> Call<Authorization> {
    Call::new(Method::Get, AUTHORIZATION.into())
}

/// Revokes the stored token.
pub fn sign_out() -> Call<()> {
    Call::new(Method::Delete, AUTHORIZATION.into())
}

/// Registers a new user, who waits for approval.
pub fn register(user: &NewUser) -> Call<Created> {
    Call::new(Method::Post, "/v1/user".into()).with(user).anonymous()
}

pub fn change_password(change: &PasswordChange) -> Call<()> {
    Call::new(Method::Put, "/v1/user".into()).with(change)
}

/// A new two-factor secret, waiting for its first code.
pub fn start_totp() -> Call<TotpEnrolment> {
    Call::new(Method::Post, "/v1/user/totp".into())
}

/// Turns two-factor sign-in on with the first code of the new secret.
pub fn confirm_totp(code: &TotpCode) -> Call<RecoveryCodes> {
    Call::new(Method::Put, "/v1/user/totp".into()).with(code)
}

pub fn turn_off_totp(confirmation: &TotpDisable) -> Call<()> {
    Call::new(Method::Delete, "/v1/user/totp".into()).with(confirmation)
}

pub fn list_sessions() -> Call<Vec<Session>> {
    Call::new(Method::Get, "/v1/user/sessions".into())
}

pub fn end_session(id: &str) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/user/sessions/{id}"))
}

/// Ends every session of the caller but this one.
pub fn end_other_sessions() -> Call<()> {
    Call::new(Method::Delete, "/v1/user/sessions".into())
}

pub fn list_tokens() -> Call<Vec<PersonalToken>> {
    Call::new(Method::Get, "/v1/user/tokens".into())
}

pub fn create_token(token: &NewPersonalToken) -> Call<CreatedToken> {
    Call::new(Method::Post, "/v1/user/tokens".into()).with(token)
}

pub fn revoke_token(id: i64) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/user/tokens/{id}"))
}

/// The applications the caller has allowed to sign them in.
pub fn list_applications() -> Call<Vec<AllowedApplication>> {
    Call::new(Method::Get, "/v1/user/applications".into())
}

/// Forgets the caller's consent to an application and ends its sign-ins.
pub fn revoke_application(client_id: &str) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/user/applications/{client_id}"))
}

/// The consent page's question (`approve` unset: what does this sign-in request need?)
/// or decision. Signed in or not: without a token the answer says `login`.
pub fn authorize(decision: &AuthorizeDecision) -> Call<AuthorizeAnswer> {
    Call::new(Method::Post, "/v1/oauth/authorize".into())
        .with(decision)
        .signed_if_stored()
}

pub fn list_users(query: &UserQuery) -> Call<Vec<User>> {
    Call::new(Method::Get, with_query("/v1/admin/user", query))
}

pub fn create_user(user: &NewUser) -> Call<Created> {
    Call::new(Method::Post, "/v1/admin/user".into()).with(user)
}

/// Approves, rejects or forbids a user.
pub fn audit_user(id: i64, audit: &UserAudit) -> Call<()> {
    Call::new(Method::Put, format!("/v1/admin/user/{id}")).with(audit)
}

pub fn reset_password(id: i64, reset: &PasswordReset) -> Call<()> {
    Call::new(Method::Put, format!("/v1/admin/user/{id}/password")).with(reset)
}

/// Turns a user's two-factor sign-in off.
pub fn reset_totp(id: i64) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/admin/user/{id}/totp"))
}

pub fn delete_user(id: i64) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/admin/user/{id}"))
}

/// Who waits for the system administrator.
pub fn queue() -> Call<Queue> {
    Call::new(Method::Get, "/v1/admin/queue".into())
}

pub fn list_audit(query: &AuditQuery) -> Call<Vec<AuditEntry>> {
    Call::new(Method::Get, with_query("/v1/admin/audit", query))
}

/// The audit log as a CSV file (`query.format` says so): the file itself, not an envelope.
pub fn audit_csv(query: &AuditQuery) -> impl Future<Output = Result<String, Failure>> + use<> {
    Call::<()>::new(Method::Get, with_query("/v1/admin/audit", query)).text()
}

pub fn list_businesses(query: &BusinessQuery) -> Call<Vec<Business>> {
    Call::new(Method::Get, with_query("/v1/business", query))
}

/// Requests a business for the caller, which waits for approval.
pub fn request_business(business: &NewBusiness) -> Call<Created> {
    Call::new(Method::Post, "/v1/business".into()).with(business)
}

/// One business; `id` as the page's address has it (the server reads it, or refuses).
pub fn get_business(id: &str) -> Call<Business> {
    Call::new(Method::Get, format!("/v1/business/id/{id}"))
}

pub fn list_members(id: i64, query: &PageQuery) -> Call<Vec<User>> {
    Call::new(
        Method::Get,
        with_query(&format!("/v1/business/{id}/members"), query),
    )
}

/// Approves or disapproves a business.
pub fn audit_business(id: i64, audit: &BusinessAudit) -> Call<()> {
    Call::new(Method::Put, format!("/v1/admin/business/{id}")).with(audit)
}

pub fn delete_business(id: i64) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/admin/business/{id}"))
}

pub fn list_webhooks() -> Call<Vec<Webhook>> {
    Call::new(Method::Get, "/v1/admin/webhooks".into())
}

pub fn create_webhook(hook: &NewWebhook) -> Call<CreatedWebhook> {
    Call::new(Method::Post, "/v1/admin/webhooks".into()).with(hook)
}

pub fn change_webhook(id: i64, change: &WebhookChange) -> Call<()> {
    Call::new(Method::Put, format!("/v1/admin/webhooks/{id}")).with(change)
}

pub fn delete_webhook(id: i64) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/admin/webhooks/{id}"))
}

pub fn list_deliveries(id: i64, query: &PageQuery) -> Call<Vec<Delivery>> {
    Call::new(
        Method::Get,
        with_query(&format!("/v1/admin/webhooks/{id}/deliveries"), query),
    )
}

/// Sends a failed delivery again.
pub fn retry_delivery(id: i64, delivery: i64) -> Call<()> {
    Call::new(
        Method::Post,
        format!("/v1/admin/webhooks/{id}/deliveries/{delivery}/retry"),
    )
}

/// The applications (OpenID Connect clients), newest first.
pub fn list_clients() -> Call<Vec<Client>> {
    Call::new(Method::Get, "/v1/admin/oauth/clients".into())
}

/// Registers an application; the answer holds its secret, this once.
pub fn create_client(client: &NewClient) -> Call<CreatedClient> {
    Call::new(Method::Post, "/v1/admin/oauth/clients".into()).with(client)
}

pub fn change_client(client_id: &str, change: &ClientChange) -> Call<()> {
    Call::new(Method::Put, format!("/v1/admin/oauth/clients/{client_id}")).with(change)
}

/// Removes an application; its sign-ins and tokens end.
pub fn delete_client(client_id: &str) -> Call<()> {
    Call::new(Method::Delete, format!("/v1/admin/oauth/clients/{client_id}"))
}
