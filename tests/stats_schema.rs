//! Issue 13, item 12: `/stats.json` and `/stats.csv` follow the schema in docs/stats.md,
//! through the real router: counts are numbers (or null) with a separate `suppressed` flag,
//! every row names its institution (slug and both names), months are broken down, and each
//! institution's on-time share and median days to a first answer appear only from 5 answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

use common::{CHEAP_KDF, Fixture, get, login, send, set_state, submit};

fn row<'a>(rows: &'a Value, slug: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["slug"] == slug)
        .unwrap_or_else(|| panic!("no row {slug} in {rows}"))
}

#[tokio::test]
async fn statistics_follow_the_published_schema() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    // Six health cases, all answered; two transport cases, one of them answered.
    for _ in 0..6 {
        let (_, id) = submit(&router, &[("institution", "health")]).await;
        for (token, to) in [
            (&triage, "verified"),
            (&inv, "in_progress"),
            (&inv, "answered"),
        ] {
            let r = set_state(&router, token, &id, to, None).await;
            assert_eq!(r.status, StatusCode::OK, "{to}: {}", r.text());
        }
    }
    for _ in 0..2 {
        submit(
            &router,
            &[("institution", "transport"), ("kind", "aspiration")],
        )
        .await;
    }

    let r = send(&router, get("/stats.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["schema"], "bisik-stats/2");
    assert_eq!(v["threshold"], 5);
    assert_eq!(
        (&v["total"], &v["total_suppressed"]),
        (&json!(8), &json!(false))
    );
    // Every count anywhere is a number or null, never a string like "<5".
    fn no_strings_in_counts(v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "cases"
                        || k == "answered"
                        || k.ends_with("_percent")
                        || k.starts_with("median_working")
                        || k == "total"
                    {
                        assert!(x.is_u64() || x.is_i64() || x.is_null(), "{k}: {x}");
                    }
                    no_strings_in_counts(x);
                }
            }
            Value::Array(a) => a.iter().for_each(no_strings_in_counts),
            _ => {}
        }
    }
    no_strings_in_counts(&v);
    assert!(!r.text().contains("<5"));

    let groups = v["groups"].as_array().unwrap();
    let dims: Vec<&str> = groups
        .iter()
        .map(|g| g["dimension"].as_str().unwrap())
        .collect();
    assert_eq!(
        dims,
        ["state", "institution", "kind", "category", "channel"]
    );
    let inst = &groups[1]["rows"];
    assert_eq!(
        row(inst, "health"),
        &json!({"slug": "health", "name_id": "Dinas Kesehatan Kota Contoh (demo)",
                "name_en": "Example City Health Office (demo)", "cases": 6, "suppressed": false}),
    );
    let transport = row(inst, "transport");
    assert_eq!(
        (&transport["cases"], &transport["suppressed"]),
        (&json!(null), &json!(true))
    );
    assert!(
        transport["name_id"].as_str().unwrap().len() > 3
            && transport["name_en"].as_str().unwrap().len() > 3
    );
    // States and kinds are named too, in both languages.
    let answered = row(&groups[0]["rows"], "answered");
    assert_eq!(
        (&answered["name_en"], &answered["cases"]),
        (&json!("Answered"), &json!(6))
    );
    assert_eq!(row(&groups[2]["rows"], "aspiration")["suppressed"], true);

    // Months: all eight arrived in November 2026 (the fixture's clock).
    assert_eq!(
        v["months"],
        json!([{"slug": "2026-11", "name_id": "", "name_en": "", "cases": 8, "suppressed": false}])
    );

    // Per institution: health has six answers (share and median shown), transport none.
    let insts = &v["institutions"];
    let health = row(insts, "health");
    assert_eq!(health["answered"], 6);
    assert_eq!(health["answered_on_time_percent"], 100);
    assert_eq!(health["answered_on_time_suppressed"], false);
    assert_eq!(health["median_working_days_to_first_answer"], 0);
    assert_eq!(health["median_suppressed"], false);
    assert_eq!(health["name_en"], "Example City Health Office (demo)");
    let transport = row(insts, "transport");
    assert_eq!(
        (
            &transport["answered"],
            &transport["answered_on_time_percent"],
            &transport["median_working_days_to_first_answer"]
        ),
        (&json!(0), &json!(null), &json!(null))
    );
    assert_eq!(
        transport["median_suppressed"], false,
        "nothing to measure is not hidden"
    );
    assert_eq!(v["answered_on_time_percent"], 100);

    // CSV: the same numbers in fixed columns, empty cells where suppressed.
    let r = send(&router, get("/stats.csv")).await;
    let csv = r.text();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("section,slug,name_id,name_en,value,suppressed")
    );
    for l in lines {
        assert_eq!(l.matches(',').count(), 5, "fixed columns: {l}");
    }
    assert!(csv.contains("\ntotal,all,,,8,false\n"));
    assert!(csv.contains(
        "\ninstitution,health,Dinas Kesehatan Kota Contoh (demo),Example City Health Office (demo),6,false\n"
    ));
    assert!(
        csv.contains("\nkind,aspiration,Aspirasi,Aspiration,,true\n"),
        "{csv}"
    );
    assert!(csv.contains("\nmonth,2026-11,,,8,false\n"));
    assert!(csv.contains(
        "\ninstitution_answered_on_time_percent,health,Dinas Kesehatan Kota Contoh (demo),Example City Health Office (demo),100,false\n"
    ));
    assert!(csv.contains("\ninstitution_median_working_days_to_first_answer,health,"));
    assert!(
        !csv.lines()
            .any(|l| l.ends_with(",2,false") || l.contains("<5"))
    );
}

/// From one to four answers, an institution's share and median are hidden, and flagged so.
#[tokio::test]
async fn an_institutions_answers_under_five_are_hidden() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    for i in 0..6 {
        let (_, id) = submit(&router, &[("institution", "health")]).await;
        if i < 4 {
            for (token, to) in [
                (&triage, "verified"),
                (&inv, "in_progress"),
                (&inv, "answered"),
            ] {
                set_state(&router, token, &id, to, None).await;
            }
        }
    }
    let v: Value = serde_json::from_slice(&send(&router, get("/stats.json")).await.body).unwrap();
    let health = row(&v["institutions"], "health");
    assert_eq!(
        health,
        &json!({"slug": "health", "name_id": "Dinas Kesehatan Kota Contoh (demo)",
            "name_en": "Example City Health Office (demo)", "cases": 6, "suppressed": false,
            "answered": null, "answered_suppressed": true,
            "answered_on_time_percent": null, "answered_on_time_suppressed": true,
            "median_working_days_to_first_answer": null, "median_suppressed": true})
    );
    assert_eq!(
        (
            &v["answered_on_time_percent"],
            &v["answered_on_time_suppressed"]
        ),
        (&json!(null), &json!(true))
    );
    let csv = send(&router, get("/stats.csv")).await.text();
    assert!(csv.contains("\ninstitution_answered,health,Dinas Kesehatan Kota Contoh (demo),Example City Health Office (demo),,true\n"), "{csv}");
}
