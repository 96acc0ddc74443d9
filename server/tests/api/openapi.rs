//! The OpenAPI document describes exactly the endpoints of SPEC.md, and each described
//! endpoint answers.

use crate::common::TestPortal;
use reqwest::Method;
use std::collections::BTreeSet;

/// The contract: SPEC.md sections 3 and 4, and the identity provider of section 12.
const CONTRACT: &[(&str, &str)] = &[
    ("POST", "/v1/authorization"),
    ("PUT", "/v1/authorization"),
    ("DELETE", "/v1/authorization"),
    ("GET", "/v1/authorization"),
    ("POST", "/v1/user"),
    ("PUT", "/v1/user"),
    ("GET", "/v1/admin/user"),
    ("POST", "/v1/admin/user"),
    ("PUT", "/v1/admin/user/{id}"),
    ("PUT", "/v1/admin/user/{id}/password"),
    ("DELETE", "/v1/admin/user/{id}"),
    ("POST", "/v1/business"),
    ("GET", "/v1/business"),
    ("GET", "/v1/business/id/{id}"),
    ("PUT", "/v1/admin/business/{id}"),
    ("DELETE", "/v1/admin/business/{id}"),
    ("GET", "/v1/business/{id}/members"),
    ("GET", "/v1/admin/queue"),
    ("GET", "/v1/admin/audit"),
    ("POST", "/v1/user/totp"),
    ("PUT", "/v1/user/totp"),
    ("DELETE", "/v1/user/totp"),
    ("DELETE", "/v1/admin/user/{id}/totp"),
    ("GET", "/v1/user/sessions"),
    ("DELETE", "/v1/user/sessions"),
    ("DELETE", "/v1/user/sessions/{id}"),
    ("POST", "/v1/user/tokens"),
    ("GET", "/v1/user/tokens"),
    ("DELETE", "/v1/user/tokens/{id}"),
    ("POST", "/v1/admin/webhooks"),
    ("GET", "/v1/admin/webhooks"),
    ("PUT", "/v1/admin/webhooks/{id}"),
    ("DELETE", "/v1/admin/webhooks/{id}"),
    ("GET", "/v1/admin/webhooks/{id}/deliveries"),
    ("POST", "/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry"),
    ("POST", "/v1/admin/oauth/clients"),
    ("GET", "/v1/admin/oauth/clients"),
    ("PUT", "/v1/admin/oauth/clients/{clientId}"),
    ("DELETE", "/v1/admin/oauth/clients/{clientId}"),
    ("POST", "/v1/oauth/authorize"),
    ("GET", "/v1/user/applications"),
    ("DELETE", "/v1/user/applications/{clientId}"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/oauth/jwks"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("GET", "/oauth/userinfo"),
    ("POST", "/oauth/userinfo"),
    ("GET", "/oauth/logout"),
    ("GET", "/v1/openapi.json"),
];

#[tokio::test]
async fn the_document_describes_every_endpoint_of_the_contract_and_nothing_else() {
    let portal = TestPortal::start().await;
    let doc = portal.get("/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc.body["openapi"]
    );
    let mut described = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                described.insert((method.to_uppercase(), path.clone()));
                // OpenAPI 3.1 4.8.10: unique; two handlers of one name in two modules
                // collided once, caught only by the validator of the fuzzing run.
                let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
                assert!(!id.is_empty(), "{method} {path} has no operationId");
                assert!(
                    operation_ids.insert(id.clone()),
                    "{method} {path}: operationId {id} is taken"
                );
            }
        }
    }
    let contract: BTreeSet<_> = CONTRACT
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(described, contract);
}

#[tokio::test]
async fn every_described_endpoint_is_routed() {
    let portal = TestPortal::start().await;
    let doc = portal.get("/v1/openapi.json", None).await;
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let concrete = path.replace("{id}", "1");
            let reply = portal.call(method.clone(), &concrete, None, None).await;
            let unrouted = matches!(reply.status.as_u16(), 404 | 405) && reply.message().contains("endpoint")
                || reply.status == 405;
            assert!(
                !unrouted,
                "{method} {path} is described but not routed: {}",
                reply.body
            );
        }
    }
}
