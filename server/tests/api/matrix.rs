//! The authorization matrix: every endpoint against every kind of caller, with the status
//! SPEC.md implies. Each row gets a fresh portal and cast; targets that a call destroys
//! are made afresh for each cell.

use crate::common::{ADMIN_PASSWORD, PASSWORD, TestPortal, unique_phone};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

/// Callers, in the order of each row's expected statuses.
const CALLERS: [&str; 7] = [
    "anonymous",
    "pending",
    "role 1",
    "role 2",
    "role 3 (own)",
    "role 3 (other)",
    "role 4",
];

struct Cast {
    tokens: [Option<String>; 7],
    passwords: [&'static str; 7],
    admin_a: String,
    business_a: i64,
    sysadmin: String,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn fresh(prefix: &str) -> String {
    format!("{prefix}{}", SEQ.fetch_add(1, Ordering::Relaxed))
}

async fn cast(portal: &TestPortal) -> Cast {
    let pending_id = portal.register("pending", true).await;
    let _ = pending_id;
    let pending = portal.login("pending", PASSWORD).await;
    let (_, role1) = portal.approved("general", true).await;
    let (_, business_a, admin_a) = portal.business_admin("admin.a", "business-a").await;
    let (_, role2) = portal.member(&admin_a, "member.a", false).await;
    let (_, _, admin_b) = portal.business_admin("admin.b", "business-b").await;
    let sysadmin = portal.admin_token().await;
    Cast {
        tokens: [
            None,
            Some(pending),
            Some(role1),
            Some(role2),
            Some(admin_a.clone()),
            Some(admin_b),
            Some(sysadmin.clone()),
        ],
        passwords: [
            PASSWORD,
            PASSWORD,
            PASSWORD,
            PASSWORD,
            PASSWORD,
            PASSWORD,
            ADMIN_PASSWORD,
        ],
        admin_a,
        business_a,
        sysadmin,
    }
}

/// What a call needs besides the caller.
#[derive(Clone, Copy)]
enum Target {
    Nothing,
    /// A new member of business A, made for this cell.
    MemberOfA,
    BusinessA,
    /// A new pending business of a new owner, made for this cell.
    NewBusiness,
}

async fn target_id(portal: &TestPortal, cast: &Cast, target: Target) -> i64 {
    match target {
        Target::Nothing => 0,
        Target::BusinessA => cast.business_a,
        Target::MemberOfA => portal.member(&cast.admin_a, &fresh("victim"), false).await.0,
        Target::NewBusiness => {
            let (_, owner) = portal.approved(&fresh("owner"), true).await;
            let body = json!({"name": fresh("doomed-"), "introduce": "i", "objective": "o", "scale": "s"});
            portal
                .post("/v1/business", Some(&owner), body)
                .await
                .expect(200)
                .body["data"]["id"]
                .as_i64()
                .unwrap()
        }
    }
}

fn new_user() -> Value {
    json!({"user": fresh("made"), "password": PASSWORD, "phone": unique_phone(), "realName": "Made", "isAdmin": false})
}

struct Row {
    method: Method,
    path: &'static str,
    target: Target,
    body: fn(&str) -> Option<Value>,
    expected: [u16; 7],
}

fn rows() -> Vec<Row> {
    use Method as M;
    use Target as T;
    let none: fn(&str) -> Option<Value> = |_| None;
    vec![
        Row {
            method: M::POST,
            path: "/v1/authorization",
            target: T::Nothing,
            body: |_| Some(json!({"user": "member.a", "password": PASSWORD})),
            expected: [200; 7],
        },
        Row {
            method: M::PUT,
            path: "/v1/authorization",
            target: T::Nothing,
            body: |_| Some(json!({})),
            expected: [401, 200, 200, 200, 200, 200, 200],
        },
        Row {
            method: M::DELETE,
            path: "/v1/authorization",
            target: T::Nothing,
            body: none,
            expected: [401, 200, 200, 200, 200, 200, 200],
        },
        Row {
            method: M::GET,
            path: "/v1/authorization",
            target: T::Nothing,
            body: none,
            expected: [401, 200, 200, 200, 200, 200, 200],
        },
        Row {
            method: M::POST,
            path: "/v1/user",
            target: T::Nothing,
            body: |_| Some(new_user()),
            expected: [200; 7],
        },
        Row {
            method: M::PUT,
            path: "/v1/user",
            target: T::Nothing,
            body: |old| Some(json!({"oldPassword": old, "password": "Another1pw"})),
            expected: [401, 200, 200, 200, 200, 200, 200],
        },
        Row {
            method: M::GET,
            path: "/v1/admin/user",
            target: T::Nothing,
            body: none,
            expected: [401, 403, 403, 403, 200, 200, 200],
        },
        Row {
            method: M::POST,
            path: "/v1/admin/user",
            target: T::Nothing,
            body: |_| Some(new_user()),
            expected: [401, 403, 403, 403, 200, 200, 200],
        },
        Row {
            method: M::PUT,
            path: "/v1/admin/user/{id}",
            target: T::MemberOfA,
            body: |_| Some(json!({"status": 3})),
            expected: [401, 403, 403, 403, 403, 403, 200],
        },
        Row {
            method: M::PUT,
            path: "/v1/admin/user/{id}/password",
            target: T::MemberOfA,
            body: |_| Some(json!({"password": "Reset1pass"})),
            expected: [401, 403, 403, 403, 200, 404, 200],
        },
        Row {
            method: M::DELETE,
            path: "/v1/admin/user/{id}",
            target: T::MemberOfA,
            body: none,
            expected: [401, 403, 403, 403, 200, 404, 200],
        },
        Row {
            method: M::POST,
            path: "/v1/business",
            target: T::Nothing,
            body: |_| Some(json!({"name": fresh("new-"), "introduce": "i", "objective": "o", "scale": "s"})),
            expected: [401, 403, 200, 403, 409, 409, 403],
        },
        Row {
            method: M::GET,
            path: "/v1/business",
            target: T::Nothing,
            body: none,
            expected: [401, 403, 200, 200, 200, 200, 200],
        },
        Row {
            method: M::GET,
            path: "/v1/business/id/{id}",
            target: T::BusinessA,
            body: none,
            expected: [401, 403, 404, 200, 200, 404, 200],
        },
        Row {
            method: M::PUT,
            path: "/v1/admin/business/{id}",
            target: T::BusinessA,
            body: |_| Some(json!({"status": 1, "comment": "again"})),
            expected: [401, 403, 403, 403, 403, 403, 200],
        },
        Row {
            method: M::DELETE,
            path: "/v1/admin/business/{id}",
            target: T::NewBusiness,
            body: none,
            expected: [401, 403, 403, 403, 403, 403, 200],
        },
        Row {
            method: M::GET,
            path: "/v1/admin/audit",
            target: T::Nothing,
            body: none,
            expected: [401, 403, 403, 403, 200, 200, 200],
        },
    ]
}

#[tokio::test]
async fn every_endpoint_answers_every_kind_of_caller_as_the_spec_says() {
    let mut mismatches = Vec::new();
    for row in rows() {
        let portal = TestPortal::start().await;
        let cast = cast(&portal).await;
        for (i, caller) in CALLERS.iter().enumerate() {
            let id = target_id(&portal, &cast, row.target).await;
            let path = row.path.replace("{id}", &id.to_string());
            let body = (row.body)(cast.passwords[i]);
            let reply = portal
                .call(row.method.clone(), &path, cast.tokens[i].as_deref(), body)
                .await;
            let got = reply.status.as_u16();
            if got != row.expected[i] || reply.body["code"] != json!(got) {
                mismatches.push(format!(
                    "{} {} as {caller}: expected {}, got {got} {}",
                    row.method, row.path, row.expected[i], reply.body
                ));
            }
        }
        let _ = &cast.sysadmin;
    }
    assert!(
        mismatches.is_empty(),
        "authorization matrix mismatches:\n{}",
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn a_business_admin_cannot_reach_a_foreign_users_account() {
    let portal = TestPortal::start().await;
    let (_, _, admin_a) = portal.business_admin("admin.a", "business-a").await;
    let (_, _, admin_b) = portal.business_admin("admin.b", "business-b").await;
    let (foreign, _) = portal.member(&admin_b, "foreigner", false).await;
    portal
        .put(
            &format!("/v1/admin/user/{foreign}/password"),
            Some(&admin_a),
            json!({"password": "Stolen1pw"}),
        )
        .await
        .expect(404);
    portal
        .delete(&format!("/v1/admin/user/{foreign}"), Some(&admin_a))
        .await
        .expect(404);
    let missing = portal
        .delete("/v1/admin/user/987654", Some(&admin_a))
        .await
        .expect(404);
    let hidden = portal
        .delete(&format!("/v1/admin/user/{foreign}"), Some(&admin_a))
        .await
        .expect(404);
    assert_eq!(
        missing.message().replace("987654", "N"),
        hidden.message().replace(&foreign.to_string(), "N"),
        "a foreign user looks exactly like a missing one"
    );
    portal.login("foreigner", PASSWORD).await;
}
