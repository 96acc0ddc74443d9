//! Every field rule of SPEC.md section 5 is refused with 422 naming the field and the
//! rule, and a refused request leaves nothing behind.

use crate::common::{PASSWORD, TestPortal, unique_phone};
use serde_json::{Value, json};

fn registration() -> Value {
    json!({"user": "valid.name", "password": PASSWORD, "phone": unique_phone(), "realName": "Valid Name", "isAdmin": false})
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    if value.is_null() {
        body.as_object_mut().unwrap().remove(field);
    } else {
        body[field] = value;
    }
    body
}

#[tokio::test]
async fn registration_refuses_each_broken_rule_with_422_and_stores_nothing() {
    let portal = TestPortal::start().await;
    let long = |n: usize| json!("x".repeat(n));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("user", json!("a"), "user: must be 2-32 characters"),
        ("user", long(33), "user: must be 2-32 characters"),
        ("user", json!("_lead"), "user: must be 2-32 characters"),
        ("user", json!("has space"), "user: must be 2-32 characters"),
        ("user", json!("名字"), "user: must be 2-32 characters"),
        ("user", json!(42), "user: invalid type"),
        ("user", Value::Null, "user: is required"),
        ("password", json!("Sh0rt"), "password: must be 8-20 characters"),
        (
            "password",
            json!("Abcdefghij1234567890X"),
            "password: must be 8-20 characters",
        ),
        (
            "password",
            json!("alllower1"),
            "password: must be 8-20 characters",
        ),
        (
            "password",
            json!("ALLUPPER1"),
            "password: must be 8-20 characters",
        ),
        (
            "password",
            json!("NoDigitsHere"),
            "password: must be 8-20 characters",
        ),
        ("password", Value::Null, "password: is required"),
        ("phone", json!("1234"), "phone: must be 5-20 digits"),
        (
            "phone",
            json!("12345678901234567890123"),
            "phone: must be 5-20 digits",
        ),
        ("phone", json!("12-345-678"), "phone: must be 5-20 digits"),
        ("phone", Value::Null, "phone: is required"),
        ("realName", json!("   "), "realName: must be 1-64 characters"),
        (
            "realName",
            json!("名".repeat(65)),
            "realName: must be 1-64 characters",
        ),
        ("realName", Value::Null, "realName: is required"),
        ("isAdmin", json!("yes"), "isAdmin: invalid type"),
        ("isAdmin", json!(1), "isAdmin: invalid type"),
        ("isAdmin", Value::Null, "isAdmin: is required"),
    ];
    for (field, value, expected) in cases {
        let reply = portal
            .post("/v1/user", None, with(registration(), field, value.clone()))
            .await
            .expect(422);
        assert!(
            reply.message().starts_with(expected),
            "{field}={value}: got {:?}",
            reply.message()
        );
    }
    let admin = portal.admin_token().await;
    assert_eq!(
        portal.get("/v1/admin/user", Some(&admin)).await.body["total"],
        1,
        "nothing was stored"
    );
}

#[tokio::test]
async fn strings_are_trimmed_except_passwords_and_unknown_fields_are_ignored() {
    let portal = TestPortal::start().await;
    let body = json!({"user": "  spaced  ", "password": " Padded1x ", "phone": " 123456 ", "realName": "  Real  ",
                      "isAdmin": false, "unknown": {"nested": true}, "role": 4});
    portal.post("/v1/user", None, body).await.expect(200);
    portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "spaced", "password": "Padded1x"}),
        )
        .await
        .expect(401);
    let token = portal.login("SPACED", " Padded1x ").await;
    assert_eq!(portal.role(&token).await, 0, "a client cannot pick its role");
}

#[tokio::test]
async fn names_and_phones_are_unique_case_insensitively() {
    let portal = TestPortal::start().await;
    let phone = unique_phone();
    let body = with(
        with(registration(), "user", json!("Taken")),
        "phone",
        json!(phone),
    );
    portal.post("/v1/user", None, body).await.expect(200);
    let reply = portal
        .post("/v1/user", None, with(registration(), "user", json!("tAKEN")))
        .await
        .expect(409);
    assert_eq!(reply.message(), "user: is already taken");
    let reply = portal
        .post("/v1/user", None, with(registration(), "phone", json!(phone)))
        .await
        .expect(409);
    assert_eq!(reply.message(), "phone: is already registered");
}

#[tokio::test]
async fn free_text_is_stored_and_returned_verbatim() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let tricky = "Robert'); DROP TABLE users;-- 王小明 🚀 \\ % _ \"quoted\"";
    let body = with(registration(), "realName", json!(tricky));
    portal.post("/v1/user", None, body).await.expect(200);
    let list = portal
        .get("/v1/admin/user?orderBy=id&order=desc", Some(&admin))
        .await
        .expect(200);
    assert_eq!(list.body["data"][0]["realName"], tricky);

    let (_, owner) = portal.approved("owner", true).await;
    let body =
        json!({"name": "verbatim", "introduce": tricky, "objective": "目标：边缘推理", "scale": "'; --"});
    let id = portal
        .post("/v1/business", Some(&owner), body)
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let comment = "同意。O'Brien says \"ok\" -- fine";
    portal
        .put(
            &format!("/v1/admin/business/{id}"),
            Some(&admin),
            json!({"status": 2, "comment": comment}),
        )
        .await
        .expect(200);
    let detail = portal
        .get(&format!("/v1/business/id/{id}"), Some(&owner))
        .await
        .expect(200);
    assert_eq!(detail.body["data"]["introduce"], tricky);
    assert_eq!(detail.body["data"]["objective"], "目标：边缘推理");
    assert_eq!(detail.body["data"]["scale"], "'; --");
    assert_eq!(detail.body["data"]["comment"], comment);
}

#[tokio::test]
async fn business_fields_follow_their_rules() {
    let portal = TestPortal::start().await;
    let (_, owner) = portal.approved("owner", true).await;
    let valid = json!({"name": "edge-1", "introduce": "i", "objective": "o", "scale": "s"});
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!("Edge"), "name: must be a DNS-1123 label"),
        ("name", json!("-edge"), "name: must be a DNS-1123 label"),
        ("name", json!("edge-"), "name: must be a DNS-1123 label"),
        ("name", json!("ed_ge"), "name: must be a DNS-1123 label"),
        ("name", json!("a".repeat(64)), "name: must be a DNS-1123 label"),
        ("introduce", json!(""), "introduce: must be 1-1000 characters"),
        (
            "introduce",
            json!("字".repeat(1001)),
            "introduce: must be 1-1000 characters",
        ),
        ("objective", json!("  "), "objective: must be 1-1000 characters"),
        ("scale", json!("s".repeat(65)), "scale: must be 1-64 characters"),
        ("scale", Value::Null, "scale: is required"),
    ];
    for (field, value, expected) in cases {
        let reply = portal
            .post(
                "/v1/business",
                Some(&owner),
                with(valid.clone(), field, value.clone()),
            )
            .await
            .expect(422);
        assert!(
            reply.message().starts_with(expected),
            "{field}={value}: got {:?}",
            reply.message()
        );
    }
    assert_eq!(
        portal.get("/v1/business", Some(&owner)).await.body["total"],
        0,
        "nothing was stored"
    );

    let id = portal
        .post("/v1/business", Some(&owner), valid)
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let admin = portal.admin_token().await;
    let path = format!("/v1/admin/business/{id}");
    for (body, expected) in [
        (
            json!({"status": 1, "comment": "c".repeat(513)}),
            "comment: must be at most 512 characters",
        ),
        (json!({"status": 3}), "status: "),
        (json!({"status": 0}), "status: "),
        (json!({"comment": "no status"}), "status: is required"),
    ] {
        let reply = portal.put(&path, Some(&admin), body).await.expect(422);
        assert!(reply.message().starts_with(expected), "got {:?}", reply.message());
    }
}

#[tokio::test]
async fn queries_ids_and_statuses_out_of_range_get_422() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    for (query, field) in [
        ("page=0", "page"),
        ("page=x", "page"),
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("orderBy=name", "orderBy"),
        ("order=up", "order"),
    ] {
        let reply = portal
            .get(&format!("/v1/admin/user?{query}"), Some(&admin))
            .await
            .expect(422);
        assert!(
            reply.message().starts_with(&format!("{field}: ")),
            "{query}: {:?}",
            reply.message()
        );
    }
    portal
        .get(
            "/v1/admin/user?pageSize=100&page=1&orderBy=user_name&order=desc",
            Some(&admin),
        )
        .await
        .expect(200);
    portal
        .get("/v1/business?orderBy=user_name", Some(&admin))
        .await
        .expect(422);
    portal
        .get("/v1/admin/audit?pageSize=500", Some(&admin))
        .await
        .expect(422);

    for id in ["abc", "0", "-3", "1.5", "99999999999999999999"] {
        let reply = portal
            .put(
                &format!("/v1/admin/user/{id}"),
                Some(&admin),
                json!({"status": 1}),
            )
            .await
            .expect(422);
        assert_eq!(reply.message(), "id: must be a positive integer");
        portal
            .get(&format!("/v1/business/id/{id}"), Some(&admin))
            .await
            .expect(422);
    }
    let id = portal.register("target", false).await;
    for status in [json!(4), json!(-1), json!("1"), json!(null)] {
        let reply = portal
            .put(
                &format!("/v1/admin/user/{id}"),
                Some(&admin),
                json!({"status": status}),
            )
            .await
            .expect(422);
        assert!(
            reply.message().starts_with("status: "),
            "{status}: {:?}",
            reply.message()
        );
    }
    portal
        .put("/v1/admin/user/424242", Some(&admin), json!({"status": 1}))
        .await
        .expect(404);
}

#[tokio::test]
async fn changing_a_password_checks_the_old_one_and_the_rule() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("changer", false).await;
    let reply = portal
        .put(
            "/v1/user",
            Some(&token),
            json!({"oldPassword": "Wrong1pass", "password": "Fresh1pass"}),
        )
        .await
        .expect(422);
    assert_eq!(reply.message(), "oldPassword: is incorrect");
    let reply = portal
        .put(
            "/v1/user",
            Some(&token),
            json!({"oldPassword": PASSWORD, "password": PASSWORD}),
        )
        .await
        .expect(422);
    assert_eq!(reply.message(), "password: must differ from the old password");
    let reply = portal
        .put(
            "/v1/user",
            Some(&token),
            json!({"oldPassword": PASSWORD, "password": "weak"}),
        )
        .await
        .expect(422);
    assert!(
        reply.message().starts_with("password: must be 8-20"),
        "{}",
        reply.message()
    );
    portal
        .put(
            "/v1/user",
            Some(&token),
            json!({"oldPassword": PASSWORD, "password": "Fresh1pass"}),
        )
        .await
        .expect(200);
    portal.login("changer", "Fresh1pass").await;
    portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "changer", "password": PASSWORD}),
        )
        .await
        .expect(401);
}

#[tokio::test]
async fn an_admin_names_only_a_live_business_for_a_new_user() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let body = with(registration(), "businessId", json!(777));
    let reply = portal
        .post("/v1/admin/user", Some(&admin), body)
        .await
        .expect(404);
    assert!(reply.message().starts_with("businessId: "), "{}", reply.message());
    let (_, gone, _) = portal.business_admin("leaver", "gone").await;
    portal
        .delete(&format!("/v1/admin/business/{gone}"), Some(&admin))
        .await
        .expect(200);
    let body = with(registration(), "businessId", json!(gone));
    let reply = portal
        .post("/v1/admin/user", Some(&admin), body)
        .await
        .expect(409);
    assert!(reply.message().starts_with("businessId: "), "{}", reply.message());
    let (_, business_id, _) = portal.business_admin("boss", "placed").await;
    let body = with(
        with(registration(), "businessId", json!(business_id)),
        "user",
        json!("placed.user"),
    );
    portal
        .post("/v1/admin/user", Some(&admin), body)
        .await
        .expect(200);
    let token = portal.login("placed.user", PASSWORD).await;
    assert_eq!(portal.role(&token).await, 2);
}

#[tokio::test]
async fn a_post_without_a_json_content_type_is_still_read_as_json() {
    let portal = TestPortal::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/user", portal.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_json::to_vec(&registration()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
