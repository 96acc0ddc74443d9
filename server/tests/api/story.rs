//! The main story of the portal, and what each step leaves behind.

use crate::common::{ADMIN, PASSWORD, TestPortal, unique_phone};
use serde_json::json;

#[tokio::test]
async fn register_approve_request_a_business_approve_it_and_create_a_sub_user() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;

    // A general admin registers and waits: it can log in, but sees role 0 only.
    let body = json!({"user": "alice", "password": PASSWORD, "phone": "+8613800000001", "realName": "Alice Li", "isAdmin": true});
    let alice_id = portal.post("/v1/user", None, body).await.expect(200).body["data"]["id"]
        .as_i64()
        .unwrap();
    let pending = portal.login("alice", PASSWORD).await;
    assert_eq!(portal.role(&pending).await, 0);
    portal.get("/v1/business", Some(&pending)).await.expect(403);

    // The system administrator sees the pending user and approves it.
    let list = portal
        .get("/v1/admin/user?orderBy=id&order=desc", Some(&admin))
        .await
        .expect(200);
    assert_eq!(list.body["total"], 2);
    assert_eq!(list.body["data"][0]["user"], "alice");
    assert_eq!(list.body["data"][0]["status"], 0);
    portal
        .put(
            &format!("/v1/admin/user/{alice_id}"),
            Some(&admin),
            json!({"status": 1}),
        )
        .await
        .expect(200);
    let alice = portal.login("alice", PASSWORD).await;
    let me = portal.get("/v1/authorization", Some(&alice)).await.expect(200);
    assert_eq!(
        me.body["data"],
        json!({"displayName": "alice", "hasRepoAccount": false, "role": 1, "isAdmin": true, "privateProject": false, "totp": false, "totpRequired": false,
               "enableIngress": false, "enableAlert": false, "enableAdminAutoDeploy": false})
    );

    // She requests a business; it is pending and hers.
    let body = json!({"name": "edge-one", "introduce": "Edge sites in the north", "objective": "Run inference", "scale": "20 nodes"});
    let business_id = portal
        .post("/v1/business", Some(&alice), body)
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let mine = portal.get("/v1/business", Some(&alice)).await.expect(200);
    assert_eq!(mine.body["total"], 1);
    assert_eq!(mine.body["data"][0]["status"], 0);
    assert_eq!(mine.body["data"][0]["userId"], alice_id);
    portal
        .post(
            "/v1/business",
            Some(&alice),
            json!({"name": "edge-two", "introduce": "x", "objective": "y", "scale": "1"}),
        )
        .await
        .expect(409);

    // Approved with a comment: she becomes a business admin and sees the comment.
    portal
        .put(
            &format!("/v1/admin/business/{business_id}"),
            Some(&admin),
            json!({"status": 1, "comment": "Welcome aboard"}),
        )
        .await
        .expect(200);
    assert_eq!(portal.role(&alice).await, 3);
    let detail = portal
        .get(&format!("/v1/business/id/{business_id}"), Some(&alice))
        .await
        .expect(200);
    assert_eq!(detail.body["data"]["comment"], "Welcome aboard");
    assert_eq!(detail.body["data"]["status"], 1);
    assert_eq!(detail.body["data"]["introduce"], "Edge sites in the north");
    assert_eq!(detail.body["data"]["scale"], "20 nodes");

    // She creates a sub-user, approved at once, in her business: a general user (role 2).
    let body = json!({"user": "bob", "password": PASSWORD, "phone": unique_phone(), "realName": "Bob", "isAdmin": false});
    let bob_id = portal
        .post("/v1/admin/user", Some(&alice), body)
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let bob = portal.login("bob", PASSWORD).await;
    assert_eq!(portal.role(&bob).await, 2);
    let team = portal.get("/v1/admin/user", Some(&alice)).await.expect(200);
    assert_eq!(
        team.body["total"], 2,
        "alice sees herself and bob only: {}",
        team.body
    );
    let names: Vec<_> = team.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(team.body["data"][1]["businessId"], business_id);
    portal
        .get(&format!("/v1/business/id/{business_id}"), Some(&bob))
        .await
        .expect(200);

    // Every step is in the audit log, newest first; the business admin sees its own.
    let log = portal
        .get("/v1/admin/audit?pageSize=100", Some(&admin))
        .await
        .expect(200);
    let actions: Vec<_> = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "business.audit",
            "business.create",
            "user.audit",
            "user.register"
        ]
    );
    assert_eq!(log.body["data"][0]["actor"], "alice");
    assert_eq!(log.body["data"][0]["targetId"], bob_id);
    let own = portal.get("/v1/admin/audit", Some(&alice)).await.expect(200);
    let actions: Vec<_> = own.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.create", "business.audit", "business.create"]);
    assert_eq!(own.body["total"], 3);
}

#[tokio::test]
async fn deleting_a_business_sends_its_members_back_and_frees_its_owner_for_deletion() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let (owner_id, business_id, owner) = portal.business_admin("owner", "team-a").await;
    let (member_id, member) = portal.member(&owner, "member", false).await;

    // An owner of a live business cannot be deleted; nobody deletes itself.
    portal
        .delete(&format!("/v1/admin/user/{owner_id}"), Some(&admin))
        .await
        .expect(409);
    portal
        .delete(&format!("/v1/admin/user/{owner_id}"), Some(&owner))
        .await
        .expect(403);

    portal
        .delete(&format!("/v1/admin/business/{business_id}"), Some(&admin))
        .await
        .expect(200);
    portal
        .delete(&format!("/v1/admin/business/{business_id}"), Some(&admin))
        .await
        .expect(409);
    assert_eq!(portal.role(&owner).await, 1);
    assert_eq!(portal.role(&member).await, 1);
    let listed = portal.get("/v1/business", Some(&admin)).await.expect(200);
    assert_eq!(listed.body["data"][0]["status"], 3, "the row stays, status 3");

    portal
        .delete(&format!("/v1/admin/user/{member_id}"), Some(&admin))
        .await
        .expect(200);
    portal
        .delete(&format!("/v1/admin/user/{owner_id}"), Some(&admin))
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&owner)).await.expect(401);

    // The name is free again; the audit log keeps the record.
    portal.register("owner", true).await;
    let log = portal
        .get("/v1/admin/audit?pageSize=100", Some(&admin))
        .await
        .expect(200);
    let deletes = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "user.delete")
        .count();
    assert_eq!(deletes, 2);
    // The system administrator is never deleted or audited through the API.
    let root_id = portal.get("/v1/admin/user?orderBy=id", Some(&admin)).await.body["data"][0]["id"]
        .as_i64()
        .unwrap();
    portal
        .delete(&format!("/v1/admin/user/{root_id}"), Some(&admin))
        .await
        .expect(403);
    portal
        .put(
            &format!("/v1/admin/user/{root_id}"),
            Some(&admin),
            json!({"status": 3}),
        )
        .await
        .expect(403);
    assert_eq!(
        portal.get("/v1/admin/user?pageSize=1", Some(&admin)).await.body["data"][0]["user"],
        ADMIN
    );
}

#[tokio::test]
async fn a_disapproved_business_keeps_its_comment_and_its_owner_may_ask_again() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let (_, carol) = portal.approved("carol", true).await;
    let body = json!({"name": "first-try", "introduce": "i", "objective": "o", "scale": "s"});
    let first = portal
        .post("/v1/business", Some(&carol), body)
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    portal
        .put(
            &format!("/v1/admin/business/{first}"),
            Some(&admin),
            json!({"status": 2, "comment": "Too vague"}),
        )
        .await
        .expect(200);
    assert_eq!(portal.role(&carol).await, 1);
    let body = json!({"name": "second-try", "introduce": "i", "objective": "o", "scale": "s"});
    portal.post("/v1/business", Some(&carol), body).await.expect(200);
    let mine = portal
        .get("/v1/business?order=asc", Some(&carol))
        .await
        .expect(200);
    assert_eq!(mine.body["total"], 2, "both requests stay visible to their owner");
    assert_eq!(mine.body["data"][0]["comment"], "Too vague");
    // A disapproved name is free for others; a pending one is not.
    let (_, dave) = portal.approved("dave", true).await;
    let body = json!({"name": "second-try", "introduce": "i", "objective": "o", "scale": "s"});
    portal.post("/v1/business", Some(&dave), body).await.expect(409);
    let body = json!({"name": "first-try", "introduce": "i", "objective": "o", "scale": "s"});
    portal.post("/v1/business", Some(&dave), body).await.expect(200);
}

#[tokio::test]
async fn lists_page_sort_and_filter() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    for name in ["delta", "Alpha", "charlie", "bravo"] {
        portal.register(name, false).await;
    }
    let names = |reply: &crate::common::Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_name = portal
        .get(
            "/v1/admin/user?orderBy=user_name&order=asc&pageSize=3",
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(
        names(&by_name),
        ["Alpha", "bravo", "charlie"],
        "case-insensitive order"
    );
    assert_eq!(by_name.body["total"], 5);
    let page2 = portal
        .get(
            "/v1/admin/user?orderBy=user_name&order=asc&pageSize=3&page=2",
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(names(&page2), ["delta", "root"]);
    let desc = portal
        .get(
            "/v1/admin/user?orderBy=user_name&order=desc&pageSize=2",
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(names(&desc), ["root", "delta"]);
    let by_id = portal
        .get("/v1/admin/user?orderBy=id&order=desc&pageSize=1", Some(&admin))
        .await
        .expect(200);
    assert_eq!(names(&by_id), ["bravo"]);
    let beyond = portal
        .get("/v1/admin/user?page=9", Some(&admin))
        .await
        .expect(200);
    assert_eq!(beyond.body["data"], json!([]));
    assert_eq!(beyond.body["total"], 5);

    for (owner, business) in [("o1", "edge-north"), ("o2", "EDGE-south-x"), ("o3", "core")] {
        let (_, token) = portal.approved(owner, true).await;
        let body = json!({"name": business.to_lowercase(), "introduce": "i", "objective": "o", "scale": "s"});
        portal.post("/v1/business", Some(&token), body).await.expect(200);
    }
    let found = portal
        .get("/v1/business?name=EDGE&order=desc", Some(&admin))
        .await
        .expect(200);
    let names: Vec<_> = found.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["edge-south-x", "edge-north"]);
    assert_eq!(found.body["total"], 2);
    let none = portal
        .get("/v1/business?name=%25", Some(&admin))
        .await
        .expect(200);
    assert_eq!(none.body["total"], 0, "a % in the filter is a literal character");
    let paged = portal
        .get("/v1/business?pageSize=1&page=3&order=asc", Some(&admin))
        .await
        .expect(200);
    assert_eq!(paged.body["data"][0]["name"], "core");
}

#[tokio::test]
async fn the_user_list_filters_by_status_and_name_for_the_pending_queue_and_search() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let waiting = portal.register("waiting_one", false).await;
    portal.register("waiting_two", false).await;
    let (_, _) = portal.approved("approved_one", false).await;
    portal.set_status(waiting, 3).await;

    let queue = portal
        .get("/v1/admin/user?status=0", Some(&admin))
        .await
        .expect(200);
    assert_eq!(queue.body["total"], 1);
    assert_eq!(queue.body["data"][0]["user"], "waiting_two");
    let found = portal
        .get("/v1/admin/user?name=WAITING&orderBy=user_name", Some(&admin))
        .await
        .expect(200);
    assert_eq!(found.body["total"], 2);
    let literal = portal
        .get("/v1/admin/user?name=g_o", Some(&admin))
        .await
        .expect(200);
    assert_eq!(
        literal.body["total"], 1,
        "`_` is a literal character: only waiting_one has g_o"
    );
    let both = portal
        .get("/v1/admin/user?name=one&status=1", Some(&admin))
        .await
        .expect(200);
    assert_eq!(both.body["total"], 1);
    assert_eq!(both.body["data"][0]["user"], "approved_one");
    let reply = portal
        .get("/v1/admin/user?status=7", Some(&admin))
        .await
        .expect(422);
    assert_eq!(reply.message(), "status: must be 0, 1, 2 or 3");
}

/// Paging through every page, in every order, gives each live user once, in order, with
/// the same `total` from the kept count (no filter) and from a count (a filter): deep
/// pages are read from the other end, and deletions move the kept count.
#[tokio::test]
async fn every_page_in_every_order_adds_up_to_the_whole_list() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let mut ids = vec![];
    for i in 0..12 {
        // Names out of id order, mixed case.
        let name = if i % 2 == 0 {
            format!("M{:02}", 30 - i)
        } else {
            format!("m{:02}", 30 - i)
        };
        ids.push((portal.register(&name, false).await, name));
    }
    let (gone, _) = ids.remove(4);
    portal
        .delete(&format!("/v1/admin/user/{gone}"), Some(&admin))
        .await
        .expect(200);
    let mut expected: Vec<(i64, String)> = vec![(1, ADMIN.to_owned())];
    expected.extend(ids);

    for (order_by, filter) in [
        ("id", ""),
        ("user_name", ""),
        ("id", "&name=m"),
        ("user_name", "&status=0"),
    ] {
        let mut want: Vec<(i64, String)> = expected
            .iter()
            .filter(|(_, name)| match filter {
                "&name=m" => name.to_lowercase().contains('m'),
                "&status=0" => name != ADMIN,
                _ => true,
            })
            .cloned()
            .collect();
        if order_by == "user_name" {
            want.sort_by_key(|(_, name)| name.to_lowercase());
        }
        for order in ["asc", "desc"] {
            if order == "desc" {
                want.reverse();
            }
            let mut got = vec![];
            for page in 1..=4 {
                let path =
                    format!("/v1/admin/user?orderBy={order_by}&order={order}&pageSize=5&page={page}{filter}");
                let reply = portal.get(&path, Some(&admin)).await.expect(200);
                assert_eq!(reply.body["total"], want.len(), "{path}");
                for user in reply.body["data"].as_array().unwrap() {
                    got.push((
                        user["id"].as_i64().unwrap(),
                        user["user"].as_str().unwrap().to_owned(),
                    ));
                }
            }
            assert_eq!(got, want, "{order_by} {order}{filter}");
        }
    }
}
