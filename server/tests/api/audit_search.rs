//! The audit search and its CSV export (SPEC.md section 11): each filter and their
//! combinations, a business admin's scope under them, the 422s, and the CSV read back by a
//! CSV library.

use crate::common::{ADMIN, TestPortal};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The entries of one page of `query` (`pageSize=100`), and `total`.
async fn search(portal: &TestPortal, token: &str, query: &str) -> (Vec<Value>, i64) {
    let reply = portal
        .get(&format!("/v1/admin/audit?pageSize=100&{query}"), Some(token))
        .await
        .expect(200);
    let entries = reply.body["data"].as_array().expect("entries").clone();
    let total = reply.body["total"].as_i64().expect("a total");
    (entries, total)
}

/// `search` for a filter that matches at most a page: the page is all of it.
async fn all(portal: &TestPortal, token: &str, query: &str) -> Vec<Value> {
    let (entries, total) = search(portal, token, query).await;
    assert_eq!(entries.len() as i64, total, "{query}: the page holds every match");
    entries
}

fn values<'a>(entries: &'a [Value], field: &str) -> BTreeSet<&'a str> {
    entries.iter().map(|e| e[field].as_str().unwrap()).collect()
}

/// The CSV of `query`, read back with the `csv` crate: the header and the records.
async fn csv(portal: &TestPortal, token: &str, query: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let response = portal
        .client_request(Method::GET, &format!("/v1/admin/audit?format=csv&{query}"))
        .header("Authorization", token)
        .send()
        .await
        .expect("request reaches the server");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"audit.csv\""
    );
    let text = response.text().await.expect("the whole file");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("well-formed CSV");
    (header, records)
}

/// Writes an entry straight into the log, as of `time` (Unix seconds).
async fn insert(
    portal: &TestPortal,
    actor: &str,
    action: &str,
    target: (&str, i64),
    detail: &str,
    time: i64,
) {
    sqlx::query(
        "INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, detail, business_id, create_time) \
         VALUES (NULL, $1, $2, $3, $4, $5, NULL, $6)",
    )
    .bind(actor)
    .bind(action)
    .bind(target.0)
    .bind(target.1)
    .bind(detail)
    .bind(time)
    .execute(&portal.state.db.pool)
    .await
    .expect("entry written");
}

/// A small world: root approves alice and bob; carol's business is approved and she
/// creates dave in it; a business is requested by alice and refused.
struct World {
    portal: TestPortal,
    root: String,
    alice: i64,
    bob: i64,
    carol: i64,
    carol_token: String,
    business: i64,
    dave: i64,
}

async fn world() -> World {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    let (alice, alice_token) = portal.approved("alice", true).await;
    let (bob, _) = portal.approved("bob", false).await;
    let (carol, business, carol_token) = portal.business_admin("carol", "edge-one").await;
    let (dave, _) = portal.member(&carol_token, "dave", false).await;
    let refused = portal
        .post(
            "/v1/business",
            Some(&alice_token),
            json!({"name": "edge-two", "introduce": "i", "objective": "o", "scale": "1"}),
        )
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    portal
        .put(
            &format!("/v1/admin/business/{refused}"),
            Some(&root),
            json!({"status": 2, "comment": "He said \"no\", twice\nand left"}),
        )
        .await
        .expect(200);
    World {
        portal,
        root,
        alice,
        bob,
        carol,
        carol_token,
        business,
        dave,
    }
}

#[tokio::test]
async fn each_filter_keeps_only_the_entries_it_names() {
    let w = world().await;
    let (p, root) = (&w.portal, w.root.as_str());
    let (everything, total) = search(p, root, "").await;
    assert!(total >= 10 && everything.len() as i64 == total, "{total}");

    let audits = all(p, root, "action=user.audit").await;
    assert_eq!(values(&audits, "action"), BTreeSet::from(["user.audit"]));
    // alice, bob and carol were approved by root.
    assert_eq!(audits.len(), 3);

    let business = all(p, root, "action=business.*").await;
    assert_eq!(
        values(&business, "action"),
        BTreeSet::from(["business.create", "business.audit"])
    );
    assert_eq!(business.len(), 4);
    assert_eq!(all(p, root, "action=*").await.len() as i64, total);

    let by_root = all(p, root, &format!("actor={}", ADMIN.to_uppercase())).await;
    assert_eq!(values(&by_root, "actor"), BTreeSet::from([ADMIN]));
    assert_eq!(by_root.len(), 5, "three user audits, two business audits");
    let by_carol = all(p, root, &format!("actorId={}", w.carol)).await;
    assert_eq!(values(&by_carol, "actor"), BTreeSet::from(["carol"]));
    assert_eq!(
        values(&by_carol, "action"),
        BTreeSet::from(["user.register", "business.create", "user.create"])
    );

    let about_alice = all(p, root, &format!("targetType=user&targetId={}", w.alice)).await;
    assert_eq!(
        values(&about_alice, "action"),
        BTreeSet::from(["user.register", "user.audit"])
    );
    assert!(about_alice.iter().all(|e| e["targetId"] == json!(w.alice)));
    let about_business = all(p, root, "targetType=business").await;
    assert_eq!(
        values(&about_business, "targetType"),
        BTreeSet::from(["business"])
    );
    assert_eq!(about_business.len(), 4);
    // A target id alone matches whatever has that id: user `business` and so on.
    let by_id = all(p, root, &format!("targetId={}", w.business)).await;
    assert!(by_id.iter().all(|e| e["targetId"] == json!(w.business)));

    let combined = all(
        p,
        root,
        &format!("actor={ADMIN}&action=user.*&targetType=user&targetId={}", w.bob),
    )
    .await;
    assert_eq!(combined.len(), 1);
    assert_eq!(combined[0]["action"], "user.audit");
    assert_eq!(combined[0]["targetId"], json!(w.bob));
    assert!(all(p, root, "actor=nobody").await.is_empty());
    assert!(all(p, root, "action=webhook.*").await.is_empty());
}

#[tokio::test]
async fn from_is_inclusive_to_is_exclusive_and_offsets_count() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    // 2024-01-01T23:59:59Z, 2024-01-02T00:00:00Z and 2024-01-03T00:00:00Z.
    let day = 1_704_153_600;
    for (n, time) in [day - 1, day, day + 86_400].into_iter().enumerate() {
        insert(
            &portal,
            "cli",
            "user.audit",
            ("user", 900 + n as i64),
            "moment",
            time,
        )
        .await;
    }
    let ids = |entries: Vec<Value>| -> Vec<i64> {
        entries.iter().map(|e| e["targetId"].as_i64().unwrap()).collect()
    };
    let range = |from: &str, to: &str| format!("action=user.audit&from={from}&to={to}");
    let day_two = range("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z");
    assert_eq!(ids(all(&portal, &root, &day_two).await), [901]);
    // The same day in Beijing time: the '+' of the offset travels as %2B.
    let beijing = range("2024-01-02T08:00:00%2B08:00", "2024-01-03T08:00:00%2B08:00");
    assert_eq!(ids(all(&portal, &root, &beijing).await), [901]);
    // Half a second before midnight takes in midnight, not the second before it.
    let half = range("2024-01-01T23:59:59.5Z", "2024-01-03T00:00:00.5z");
    assert_eq!(ids(all(&portal, &root, &half).await), [902, 901]);
    assert_eq!(
        ids(all(&portal, &root, "action=user.audit&from=2024-01-02T00:00:00Z").await),
        [902, 901]
    );
    assert_eq!(
        ids(all(&portal, &root, "action=user.audit&to=2024-01-02T00:00:00Z").await),
        [900]
    );
    let empty = range("2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z");
    assert!(all(&portal, &root, &empty).await.is_empty());
}

#[tokio::test]
async fn a_business_admin_searches_only_its_own_business() {
    let w = world().await;
    let (p, carol) = (&w.portal, w.carol_token.as_str());
    let (own, total) = search(p, carol, "").await;
    // The request and approval of edge-one, and dave's creation.
    assert_eq!(
        values(&own, "action"),
        BTreeSet::from(["business.create", "business.audit", "user.create"])
    );
    assert_eq!(total, 3);
    let by_root = all(p, carol, &format!("actor={ADMIN}")).await;
    assert_eq!(values(&by_root, "action"), BTreeSet::from(["business.audit"]));
    assert_eq!(by_root[0]["targetId"], json!(w.business));
    assert!(all(p, carol, "action=user.audit").await.is_empty());
    assert!(
        all(p, carol, &format!("targetType=user&targetId={}", w.alice))
            .await
            .is_empty()
    );
    let dave = all(p, carol, &format!("targetId={}&targetType=user", w.dave)).await;
    assert_eq!(values(&dave, "action"), BTreeSet::from(["user.create"]));
    assert_eq!(all(p, carol, "action=business.*").await.len(), 2);

    let (_, rows) = csv(p, carol, "").await;
    assert_eq!(rows.len(), 3);
    let (_, rows) = csv(p, carol, "action=business.*").await;
    assert_eq!(rows.len(), 2);
    let (_, rows) = csv(p, carol, "actor=alice").await;
    assert!(rows.is_empty(), "alice's refused request is not carol's business");
}

#[tokio::test]
async fn a_bad_filter_is_refused_with_its_name() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    for (query, field) in [
        ("actor=a", "actor"),
        ("actor=al%20ice", "actor"),
        ("actorId=0", "actorId"),
        ("actorId=1.5", "actorId"),
        ("action=user", "action"),
        ("action=User.audit", "action"),
        ("action=user.*.*", "action"),
        ("targetType=User", "targetType"),
        ("targetType=", "targetType"),
        ("targetId=x", "targetId"),
        ("targetId=-3", "targetId"),
        ("targetId=99999999999999999999", "targetId"),
        ("from=yesterday", "from"),
        ("from=2024-05-01", "from"),
        ("to=2023-02-29T00:00:00Z", "to"),
        ("to=2024-05-01T00:00:00+08:00", "to"),
        ("format=xml", "format"),
        ("from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z", "from"),
        (
            "from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z&format=csv",
            "from",
        ),
    ] {
        let reply = portal
            .get(&format!("/v1/admin/audit?{query}"), Some(&root))
            .await
            .expect(422);
        assert!(
            reply.message().starts_with(&format!("{field}: ")),
            "{query}: {}",
            reply.message()
        );
    }
}

#[tokio::test]
async fn the_csv_holds_every_match_and_reads_back_exactly() {
    let w = world().await;
    let (p, root) = (&w.portal, w.root.as_str());
    let (header, rows) = csv(p, root, "").await;
    assert_eq!(
        header,
        [
            "id",
            "time",
            "actor_id",
            "actor",
            "action",
            "target_type",
            "target_id",
            "detail"
        ]
    );
    let (everything, total) = search(p, root, "").await;
    assert_eq!(rows.len() as i64, total);
    // Row by row what the JSON says, newest first; times in RFC 3339, UTC.
    for (row, entry) in rows.iter().zip(&everything) {
        assert_eq!(row[0], entry["id"].as_i64().unwrap().to_string());
        assert_eq!(
            row[2],
            entry["actorId"]
                .as_i64()
                .map(|id| id.to_string())
                .unwrap_or_default()
        );
        assert_eq!(row[3], entry["actor"]);
        assert_eq!(row[4], entry["action"]);
        assert_eq!(row[5], entry["targetType"]);
        assert_eq!(row[6], entry["targetId"].as_i64().unwrap().to_string());
        assert_eq!(row[7], entry["detail"]);
        assert!(row[1].ends_with('Z') && row[1].len() == 20, "{}", &row[1]);
    }
    // The refusal's comment has quotes, a comma and a newline: it comes back whole.
    let (_, refused) = csv(p, root, "action=business.audit").await;
    assert!(
        refused
            .iter()
            .any(|r| r[7] == *"edge-two: status 0 -> 2; comment: He said \"no\", twice\nand left"),
        "{refused:?}"
    );
    let (_, audits) = csv(p, root, &format!("action=user.audit&actorId={}", w.carol)).await;
    assert!(audits.is_empty());
}

#[tokio::test]
async fn cells_a_spreadsheet_would_run_start_with_a_quote() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    let risky = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+1+2",
        "-2+3",
        "@SUM(A1)",
        "\tindented",
        "\rreturn",
    ];
    for (n, text) in risky.iter().enumerate() {
        insert(
            &portal,
            text,
            "user.audit",
            ("user", 700 + n as i64),
            text,
            1_700_000_000,
        )
        .await;
    }
    insert(
        &portal,
        "cli",
        "user.audit",
        ("user", 799),
        "plain = text - here",
        1_700_000_000,
    )
    .await;
    let (_, rows) = csv(
        &portal,
        &root,
        "from=2023-11-14T22:13:20Z&to=2023-11-14T22:13:21Z",
    )
    .await;
    assert_eq!(rows.len(), risky.len() + 1);
    for row in &rows {
        let n = row[6].parse::<usize>().unwrap() - 700;
        if n == 99 {
            assert_eq!((&row[3], &row[7]), ("cli", "plain = text - here"));
            continue;
        }
        let expected = format!("'{}", risky[n]);
        assert_eq!((&row[3], &row[7]), (expected.as_str(), expected.as_str()));
    }
    // The JSON keeps the text as written.
    let (entries, _) = search(&portal, &root, "targetId=700").await;
    assert_eq!(entries[0]["detail"], risky[0]);
}

#[tokio::test]
async fn a_csv_of_thousands_arrives_whole_and_in_order() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    let mut tx = portal.state.db.pool.begin().await.unwrap();
    for n in 0..5_000_i64 {
        sqlx::query(
            "INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, detail, business_id, create_time) \
             VALUES (NULL, 'cli', $1, 'user', $2, $3, NULL, $4)",
        )
        .bind(if n % 2 == 0 { "user.audit" } else { "token.create" })
        .bind(n)
        .bind(format!("entry {n}, \"quoted\""))
        // Several entries share each second, so the order within a second counts too.
        .bind(1_600_000_000 + n / 7)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let (_, rows) = csv(&portal, &root, "actor=cli").await;
    assert_eq!(rows.len(), 5_000);
    let targets: Vec<i64> = rows.iter().map(|r| r[6].parse().unwrap()).collect();
    assert_eq!(
        targets,
        (0..5_000).rev().collect::<Vec<_>>(),
        "newest first, none twice"
    );
    assert_eq!(rows[0][7], *"entry 4999, \"quoted\"");
    let (_, audits) = csv(&portal, &root, "action=user.audit&actor=cli").await;
    assert_eq!(audits.len(), 2_500);

    // The totals (counted by triggers for one action or actor) follow direct changes too.
    assert_eq!(search(&portal, &root, "action=token.create").await.1, 2_500);
    assert_eq!(search(&portal, &root, "actor=CLI").await.1, 5_000);
    sqlx::query("DELETE FROM audit_log WHERE action = 'token.create' AND target_id < 100")
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(search(&portal, &root, "action=token.create").await.1, 2_450);
    assert_eq!(search(&portal, &root, "action=token.*").await.1, 2_450);
    assert_eq!(search(&portal, &root, "actor=cli").await.1, 4_950);
    assert_eq!(search(&portal, &root, "targetType=user").await.1, 4_950);
    assert_eq!(search(&portal, &root, "").await.1, 4_950);

    // Pages read the same order the CSV has, from either end.
    let (first, total) = search(&portal, &root, "actor=cli&page=1").await;
    let (last, _) = search(&portal, &root, "actor=cli&page=50").await;
    assert_eq!(total, 4_950);
    assert_eq!(first[0]["targetId"], json!(4_999));
    assert_eq!(last.last().unwrap()["targetId"], json!(0));
    assert_eq!(last.len(), 50);
}

#[tokio::test]
async fn the_document_describes_every_parameter_of_the_search() {
    let portal = TestPortal::start().await;
    let reply = portal.get("/v1/openapi.json", None).await;
    assert_eq!(reply.status, 200);
    let doc = reply.body;
    let operation = &doc["paths"]["/v1/admin/audit"]["get"];
    let named: BTreeSet<&str> = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "page",
        "pageSize",
        "actor",
        "actorId",
        "action",
        "targetType",
        "targetId",
        "from",
        "to",
        "format",
    ] {
        assert!(named.contains(name), "{name} is not described");
    }
    let content = operation["responses"]["200"]["content"].as_object().unwrap();
    assert!(content.contains_key("application/json") && content.contains_key("text/csv"));
    // Every schema a parameter refers to is in the document.
    for parameter in operation["parameters"].as_array().unwrap() {
        if let Some(target) = parameter["schema"]["$ref"].as_str() {
            let name = target.trim_start_matches("#/components/schemas/");
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{target} is missing"
            );
        }
    }
}
