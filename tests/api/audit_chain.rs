//! The tamper-evident audit trail: calls are sealed and checkpointed in the background, `lindung audit verify`
//! finds an intact chain intact and names the row changed, removed or inserted behind lindung's back, proofs check
//! offline, and each agency reads what is its business.

use std::process::{Command, Output};

use lindung::{
    audit::{self, Pseudonymizer, chain},
    nik::Nik,
    proto::v1::{self as pb, audit_service_client::AuditServiceClient},
    signing::Signer,
};
use sqlx::{Connection, Executor, PgConnection};

use crate::{
    enrollments::active_cohort,
    helpers::{Authed, Bearer, TestApp, bogor_worker},
};

use crate::helpers::LINDUNG;

pub async fn audit_client(app: &TestApp, key: &str) -> AuditServiceClient<Authed> {
    AuditServiceClient::with_interceptor(app.channel().await, Bearer::new(key))
}

pub fn verify(app: &TestApp) -> Output {
    Command::new(LINDUNG)
        .args(["audit", "verify"])
        .env("DATABASE_URL", app.database_url())
        .env_remove("LINDUNG_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Waits until the background tasks have sealed every record and signed the head (they run every 100 and 200 ms in
/// the tests); answers the number of records.
pub async fn sealed_and_checkpointed(app: &TestApp) -> i64 {
    for _ in 0..600 {
        let (unsealed, records, signed): (i64, i64, bool) = sqlx::query_as(
            "select (select count(*) from audit_log where seq is null),
                    (select count(*) from audit_log),
                    coalesce((select max(batch) from audit_checkpoints) = (select max(batch) from audit_batches), false)",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if unsealed == 0 && signed {
            return records;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the audit records were not sealed and checkpointed within 30 s");
}

/// Runs `statements` with triggers (the append-only guards) switched off, as a superuser bypassing lindung would.
async fn behind_lindungs_back(app: &TestApp, statements: &str) {
    let mut conn = PgConnection::connect_with(&app.pool.connect_options()).await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(statements.to_owned())).await.unwrap();
    conn.close().await.unwrap();
}

async fn read_some_workers(app: &TestApp) {
    for n in [0, 1, 2, 500] {
        let nik = bogor_worker(n).nik;
        app.workers(&app.keys.jabar).await.get_worker(pb::GetWorkerRequest { nik }).await.unwrap();
    }
}

async fn register_unfunded_worker(app: &TestApp) {
    let request = pb::UpsertWorkerRequest { worker: Some(bogor_worker(500)) };
    app.workers(&app.keys.jabar).await.upsert_worker(request).await.unwrap();
}

#[tokio::test]
async fn an_untouched_chain_verifies_and_a_row_changed_removed_or_inserted_in_sql_is_named() {
    let app = TestApp::spawn().await;
    active_cohort(&app, 30).await;
    register_unfunded_worker(&app).await;
    read_some_workers(&app).await;
    let records = sealed_and_checkpointed(&app).await;
    assert!(records > 30, "{records}");

    let intact = verify(&app);
    assert!(intact.status.success(), "{}", text(&intact));
    assert!(text(&intact).contains(&format!("audit chain intact: {records} records")), "{}", text(&intact));

    // The append-only guard refuses edits made through the front door.
    let refused = sqlx::query("update audit_log set outcome = 'OK' where seq = 3").execute(&app.pool).await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));

    // Changed: one field of one sealed row.
    let (id, outcome): (i64, String) =
        sqlx::query_as("select id, outcome from audit_log where seq = 7").fetch_one(&app.pool).await.unwrap();
    behind_lindungs_back(&app, "update audit_log set outcome = 'NOT_FOUND' where seq = 7").await;
    let changed = verify(&app);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    assert!(text(&changed).contains(&format!("record seq 7 (id {id}) was changed")), "{}", text(&changed));
    behind_lindungs_back(&app, &format!("update audit_log set outcome = '{outcome}' where seq = 7")).await;
    assert!(verify(&app).status.success(), "restored");

    // Removed: one sealed row deleted (and put back afterwards, as it was).
    let copy = "create table removed as select * from audit_log where seq = 11";
    behind_lindungs_back(&app, &format!("{copy}; delete from audit_log where seq = 11")).await;
    let removed = verify(&app);
    assert_eq!(removed.status.code(), Some(1), "{}", text(&removed));
    assert!(text(&removed).contains("record seq 11 was removed"), "{}", text(&removed));
    behind_lindungs_back(
        &app,
        "insert into audit_log overriding system value select * from removed; drop table removed",
    )
    .await;
    assert!(verify(&app).status.success(), "restored");

    // Inserted after the sealed records, claiming the next seq, with a leaf made exactly as lindung makes them.
    let last: i64 = sqlx::query_scalar("select max(seq) from audit_log").fetch_one(&app.pool).await.unwrap();
    let forged = chain::Record {
        id: 1_000_000,
        at: chrono::DateTime::from_timestamp_micros(1_764_000_000_000_000).unwrap(),
        agency_id: None,
        method: "/lindung.v1.WorkerService/GetWorker".into(),
        request_id: "forged".into(),
        correlation_id: None,
        outcome: "OK".into(),
        subject: None,
    };
    let insert = |seq: i64| {
        format!(
            "insert into audit_log (id, at, method, request_id, outcome, seq, leaf) overriding system value
             values (1000000, to_timestamp(1764000000), '{}', 'forged', 'OK', {seq}, '\\x{}')",
            forged.method,
            hex::encode(chain::leaf(seq, &forged)),
        )
    };
    behind_lindungs_back(&app, &insert(last + 1)).await;
    let inserted = verify(&app);
    assert_eq!(inserted.status.code(), Some(1), "{}", text(&inserted));
    let named = format!("record seq {} (id 1000000) was inserted", last + 1);
    assert!(text(&inserted).contains(&named), "{}", text(&inserted));
    behind_lindungs_back(&app, "delete from audit_log where id = 1000000").await;

    // Inserted in place of a sealed record inside a batch (the original moved out of the way), claiming its seq.
    let seq: i64 = sqlx::query_scalar(
        "select first_seq + 1 from audit_batches where last_seq - first_seq >= 2 order by batch limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let statements = format!("update audit_log set seq = 10000000 where seq = {seq}; {}", insert(seq));
    behind_lindungs_back(&app, &statements).await;
    let replaced = verify(&app);
    assert_eq!(replaced.status.code(), Some(1), "{}", text(&replaced));
    let named = format!("record seq {seq} (id 1000000) was inserted");
    assert!(text(&replaced).contains(&named), "{}", text(&replaced));
    app.stop().await;
}

#[tokio::test]
async fn an_inclusion_proof_checks_offline_with_the_public_key() {
    let app = TestApp::spawn().await;
    active_cohort(&app, 3).await;
    register_unfunded_worker(&app).await;
    read_some_workers(&app).await;
    sealed_and_checkpointed(&app).await;

    let mut bogor = audit_client(&app, &app.keys.bogor).await;
    let own = bogor.list_audit_records(pb::ListAuditRecordsRequest::default()).await.unwrap().into_inner();
    let record = own.records.last().unwrap();
    let request = pb::GetInclusionProofRequest { record: Some(pb::get_inclusion_proof_request::Record::Id(record.id)) };
    let response = bogor.get_inclusion_proof(request).await.unwrap().into_inner();

    let key = Signer::new([9; 32]).public_key().clone();
    let proof = audit::convert::proof_from_proto(&response).expect("a complete proof");
    assert_eq!(chain::check_proof(&proof, &key), Ok(()));
    let mut altered = proof.clone();
    altered.record.outcome = "NOT_FOUND".into();
    assert_eq!(chain::check_proof(&altered, &key), Err(chain::ProofError::NotIncluded));

    // The province's record about a worker Kota Bogor does not fund is not in Kota Bogor's view.
    let unfunded = Pseudonymizer::new([7; 32]).subject(&Nik::parse(&bogor_worker(500).nik).unwrap());
    let theirs: i64 = sqlx::query_scalar("select id from audit_log where subject_hash = $1 limit 1")
        .bind(&unfunded.0[..])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let request = pb::GetInclusionProofRequest { record: Some(pb::get_inclusion_proof_request::Record::Id(theirs)) };
    let status = bogor.get_inclusion_proof(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_agency_lists_its_own_records_and_a_funder_who_looked_at_its_workers() {
    let app = TestApp::spawn().await;
    active_cohort(&app, 3).await;
    register_unfunded_worker(&app).await;
    read_some_workers(&app).await;

    // Kota Bogor's own records are its own calls only.
    let mut bogor = audit_client(&app, &app.keys.bogor).await;
    let own = bogor.list_audit_records(pb::ListAuditRecordsRequest::default()).await.unwrap().into_inner();
    assert!(!own.records.is_empty());
    assert!(own.records.iter().all(|r| r.agency.as_ref().unwrap().name == "Pemerintah Kota Bogor"), "{own:?}");
    let times: Vec<_> = own.records.iter().map(|r| r.time.unwrap().seconds).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Paged: two at a time, the pages together are the whole list.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = pb::PageRequest { page_size: 2, page_token: token.clone() };
        let request = pb::ListAuditRecordsRequest { page: Some(page), ..Default::default() };
        let response = bogor.list_audit_records(request).await.unwrap().into_inner();
        paged.extend(response.records.into_iter().map(|r| r.id));
        token = response.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut all: Vec<i64> = own.records.iter().map(|r| r.id).collect();
    // Listing is audited too, so the later pages may see the first listing's own record.
    paged.retain(|id| all.contains(id));
    all.sort();
    paged.sort();
    assert_eq!(paged, all);

    // Who looked at Kota Bogor's workers: the province's reads of workers 0, 1, 2, not of worker 500 (unfunded).
    let access = bogor.list_worker_access(pb::ListWorkerAccessRequest::default()).await.unwrap().into_inner();
    let funded: Vec<String> = (0..3).map(|n| bogor_worker(n).nik).collect();
    assert!(access.accesses.iter().all(|a| funded.contains(&a.worker_nik)), "{access:?}");
    for nik in &funded {
        assert!(
            access.accesses.iter().any(|a| &a.worker_nik == nik
                && a.record.as_ref().is_some_and(|r| r.method == "/lindung.v1.WorkerService/GetWorker"
                    && r.agency.as_ref().unwrap().name == "Pemerintah Provinsi Jawa Barat")),
            "the province's GetWorker of {nik} is listed: {access:?}"
        );
    }
    let mut jakarta = audit_client(&app, &app.keys.jakarta).await;
    let none = jakarta.list_worker_access(pb::ListWorkerAccessRequest::default()).await.unwrap().into_inner();
    assert!(none.accesses.is_empty(), "{none:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_subject_access_report_is_for_the_workers_funder_or_the_insurer() {
    let app = TestApp::spawn().await;
    active_cohort(&app, 3).await;
    register_unfunded_worker(&app).await;
    read_some_workers(&app).await;
    let nik = bogor_worker(1).nik;
    let request = |nik: &str| pb::SubjectAccessReportRequest { nik: nik.into(), ..Default::default() };

    let report = audit_client(&app, &app.keys.bogor).await.subject_access_report(request(&nik)).await.unwrap();
    let report = report.into_inner();
    assert_eq!(report.worker_nik, nik);
    let methods: Vec<&str> = report.records.iter().map(|r| r.method.as_str()).collect();
    for method in [
        "/lindung.v1.WorkerService/UpsertWorkers",
        "/lindung.v1.EnrollmentService/SubmitEnrollments",
        "/lindung.v1.WorkerService/GetWorker",
    ] {
        assert!(methods.contains(&method), "{method} in {methods:?}");
    }
    let subject = report.records[0].subject_hash.clone();
    assert!(report.records.iter().all(|r| r.subject_hash == subject), "one worker only");

    // Kabupaten Bogor funds no one: as if the worker did not exist. The insurer answers for anyone.
    let status =
        audit_client(&app, &app.keys.kabupaten_bogor).await.subject_access_report(request(&nik)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
    let unfunded = bogor_worker(500).nik;
    let report = audit_client(&app, &app.keys.insurer).await.subject_access_report(request(&unfunded)).await.unwrap();
    assert!(!report.into_inner().records.is_empty());
    let bad = audit_client(&app, &app.keys.insurer).await.subject_access_report(request("123")).await.unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    app.stop().await;
}
