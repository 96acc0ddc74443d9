//! What the console's pages need beyond the seed: the system administrator's queue, the
//! business list's status filter and owner names, and a business's members.

use crate::common::TestPortal;
use serde_json::json;

#[tokio::test]
async fn the_queue_counts_who_waits_and_since_when() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let empty = portal.get("/v1/admin/queue", Some(&admin)).await.expect(200);
    assert_eq!(
        empty.body["data"],
        json!({"pendingUsers": 0, "pendingBusinesses": 0, "oldestUserTime": null, "oldestBusinessTime": null})
    );

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    portal.register("waiting.one", false).await;
    let gone = portal.register("waiting.gone", false).await;
    portal
        .delete(&format!("/v1/admin/user/{gone}"), Some(&admin))
        .await
        .expect(200);
    let (_, owner) = portal.approved("owner.one", true).await;
    let body = json!({"name": "queued", "introduce": "i", "objective": "o", "scale": "1"});
    portal.post("/v1/business", Some(&owner), body).await.expect(200);

    let queue = portal.get("/v1/admin/queue", Some(&admin)).await.expect(200);
    let data = &queue.body["data"];
    // The deleted registration and the approved owner do not wait.
    assert_eq!(data["pendingUsers"], 1, "{data}");
    assert_eq!(data["pendingBusinesses"], 1, "{data}");
    for time in ["oldestUserTime", "oldestBusinessTime"] {
        let at = data[time].as_i64().expect("a time");
        assert!(at >= before - 1 && at <= before + 60, "{time}: {at}");
    }
}

#[tokio::test]
async fn only_the_system_administrator_sees_the_queue() {
    let portal = TestPortal::start().await;
    portal.get("/v1/admin/queue", None).await.expect(401);
    let (_, _, business_admin) = portal.business_admin("boss", "acme").await;
    portal
        .get("/v1/admin/queue", Some(&business_admin))
        .await
        .expect(403);
    let (_, general) = portal.approved("plain", false).await;
    portal.get("/v1/admin/queue", Some(&general)).await.expect(403);
}

#[tokio::test]
async fn the_business_list_filters_by_status_and_names_owners() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let (owner_id, _, _) = portal.business_admin("approved.owner", "approved-one").await;
    let (_, waiting) = portal.approved("waiting.owner", true).await;
    let body = json!({"name": "waiting-one", "introduce": "i", "objective": "o", "scale": "1"});
    portal
        .post("/v1/business", Some(&waiting), body)
        .await
        .expect(200);

    let pending = portal
        .get("/v1/business?status=0", Some(&admin))
        .await
        .expect(200);
    assert_eq!(pending.body["total"], 1, "{}", pending.body);
    assert_eq!(pending.body["data"][0]["name"], "waiting-one");
    assert_eq!(pending.body["data"][0]["ownerName"], "waiting.owner");

    let approved = portal
        .get("/v1/business?status=1.0", Some(&admin))
        .await
        .expect(200);
    assert_eq!(approved.body["total"], 1);
    assert_eq!(approved.body["data"][0]["userId"], owner_id);
    assert_eq!(approved.body["data"][0]["ownerName"], "approved.owner");

    for bad in ["4", "-1", "x", "0.5"] {
        let reply = portal
            .get(&format!("/v1/business?status={bad}"), Some(&admin))
            .await
            .expect(422);
        assert!(reply.message().starts_with("status: "), "{}", reply.message());
    }
}

#[tokio::test]
async fn a_business_shows_its_owner_by_name_in_its_detail() {
    let portal = TestPortal::start().await;
    let (_, business, token) = portal.business_admin("named.owner", "named").await;
    let reply = portal
        .get(&format!("/v1/business/id/{business}"), Some(&token))
        .await
        .expect(200);
    assert_eq!(reply.body["data"]["ownerName"], "named.owner");
}

#[tokio::test]
async fn a_business_lists_its_members_by_page() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let (owner, business, boss) = portal.business_admin("team.boss", "team").await;
    let (first, _) = portal.member(&boss, "team.first", false).await;
    let (second, _) = portal.member(&boss, "team.second", false).await;
    let (gone, _) = portal.member(&boss, "team.gone", false).await;
    portal
        .delete(&format!("/v1/admin/user/{gone}"), Some(&boss))
        .await
        .expect(200);

    let all = portal
        .get(&format!("/v1/business/{business}/members"), Some(&admin))
        .await
        .expect(200);
    assert_eq!(all.body["total"], 3, "{}", all.body);
    let ids: Vec<i64> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![owner, first, second]);

    let page = portal
        .get(
            &format!("/v1/business/{business}/members?page=2&pageSize=2"),
            Some(&boss),
        )
        .await
        .expect(200);
    assert_eq!(page.body["total"], 3);
    assert_eq!(page.body["data"][0]["user"], "team.second");
    let past = portal
        .get(&format!("/v1/business/{business}/members?page=9"), Some(&boss))
        .await
        .expect(200);
    assert_eq!(past.body["data"], json!([]));

    portal
        .get(
            &format!("/v1/business/{business}/members?pageSize=101"),
            Some(&boss),
        )
        .await
        .expect(422);
    portal
        .get("/v1/business/0/members", Some(&admin))
        .await
        .expect(422);
    portal
        .get("/v1/business/999/members", Some(&admin))
        .await
        .expect(404);
}

#[tokio::test]
async fn a_business_admin_sees_only_its_own_members() {
    let portal = TestPortal::start().await;
    let (_, business_a, admin_a) = portal.business_admin("admin.a", "business-a").await;
    let (_, business_b, _) = portal.business_admin("admin.b", "business-b").await;
    portal
        .get(&format!("/v1/business/{business_a}/members"), Some(&admin_a))
        .await
        .expect(200);
    // Another business and no business alike are 404: existence does not leak.
    let foreign = portal
        .get(&format!("/v1/business/{business_b}/members"), Some(&admin_a))
        .await
        .expect(404);
    let missing = portal
        .get("/v1/business/999/members", Some(&admin_a))
        .await
        .expect(404);
    assert_eq!(
        foreign.message().replace(&business_b.to_string(), "N"),
        missing.message().replace("999", "N")
    );
    let (_, member) = portal.member(&admin_a, "member.a", false).await;
    portal
        .get(&format!("/v1/business/{business_a}/members"), Some(&member))
        .await
        .expect(403);
    portal
        .get(&format!("/v1/business/{business_a}/members"), None)
        .await
        .expect(401);
}
