//! `lindung demo`: the Kota Bogor story of docs/ (issue 13) replayed over the real gRPC API against a server of its
//! own. An edge module, a client of the server like an agency's: it speaks only through the generated tonic clients,
//! except for creating the three agencies and their keys, which `lindung agency add` does on the store too.

mod data;

use std::{collections::BTreeMap, path::Path, time::Instant};

use anyhow::Context;
use tonic::transport::Channel;

use crate::{
    agency::{self, Agency, AgencyKind, NewApiKey},
    area::RegionCode,
    client::{Authed, Refusal, authed, count, rupiah},
    proto::v1::{
        self as pb, agency_service_client::AgencyServiceClient, claim_service_client::ClaimServiceClient,
        contribution_service_client::ContributionServiceClient, coverage_service_client::CoverageServiceClient,
        enrollment_service_client::EnrollmentServiceClient, reconcile_service_client::ReconcileServiceClient,
        subsidy_service_client::SubsidyServiceClient, worker_service_client::WorkerServiceClient,
    },
    state::AppState,
};

/// The database the demo recreates on each run, beside the user's.
pub const DATABASE: &str = "lindung_demo";

/// Accepted enrollments of the city's and of the province's list.
const CITY_WORKERS: usize = 7_894;
const PROVINCE_WORKERS: usize = 14_580;
/// City workers the province also submits: refused as DOUBLE_FUNDING.
const ON_BOTH_LISTS: usize = 25;
/// The date the store is asked about: the story's, not the run's.
const AS_OF: &str = "2025-09-30";

/// The API keys of the three agencies, created for this run.
pub struct Keys {
    pub city: String,
    pub province: String,
    pub insurer: String,
}

/// Creates Pemerintah Kota Bogor, Pemerintah Provinsi Jawa Barat and BPJS Ketenagakerjaan with one key each.
pub async fn add_agencies(state: &AppState) -> anyhow::Result<Keys> {
    let mut tx = state.pool.begin().await?;
    let mut keys = Vec::new();
    for (name, kind, region) in [
        ("Pemerintah Kota Bogor", AgencyKind::City, Some("32.71")),
        ("Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some("32")),
        ("BPJS Ketenagakerjaan", AgencyKind::Insurer, None),
    ] {
        let region = region.map(RegionCode::parse).transpose()?;
        let agency = Agency::new(uuid::Uuid::new_v4(), name, kind, region)?;
        let key = NewApiKey::generate();
        agency::service::add(&mut tx, &agency).await?;
        agency::store::insert_api_key(&mut *tx, agency.id, &key.hash, &key.prefix).await?;
        keys.push(key.secret);
    }
    tx.commit().await?;
    let [city, province, insurer] = keys.try_into().expect("three agencies");
    Ok(Keys { city, province, insurer })
}

/// The generated clients over one connection, as whichever agency a step is played by.
struct Clients {
    channel: Channel,
}

impl Clients {
    fn auth(&self, key: &str) -> anyhow::Result<Authed> {
        authed(self.channel.clone(), key)
    }
    fn agency(&self, key: &str) -> anyhow::Result<AgencyServiceClient<Authed>> {
        Ok(AgencyServiceClient::new(self.auth(key)?))
    }
    fn workers(&self, key: &str) -> anyhow::Result<WorkerServiceClient<Authed>> {
        Ok(WorkerServiceClient::new(self.auth(key)?))
    }
    fn subsidies(&self, key: &str) -> anyhow::Result<SubsidyServiceClient<Authed>> {
        Ok(SubsidyServiceClient::new(self.auth(key)?))
    }
    fn enrollments(&self, key: &str) -> anyhow::Result<EnrollmentServiceClient<Authed>> {
        Ok(EnrollmentServiceClient::new(self.auth(key)?))
    }
    fn contributions(&self, key: &str) -> anyhow::Result<ContributionServiceClient<Authed>> {
        Ok(ContributionServiceClient::new(self.auth(key)?))
    }
    fn claims(&self, key: &str) -> anyhow::Result<ClaimServiceClient<Authed>> {
        Ok(ClaimServiceClient::new(self.auth(key)?))
    }
    fn coverage(&self, key: &str) -> anyhow::Result<CoverageServiceClient<Authed>> {
        Ok(CoverageServiceClient::new(self.auth(key)?))
    }
    fn reconcile(&self, key: &str) -> anyhow::Result<ReconcileServiceClient<Authed>> {
        Ok(ReconcileServiceClient::new(self.auth(key)?))
    }
}

/// Prints a step with its count and how long it took.
struct Step(Instant);

impl Step {
    fn start() -> Step {
        Step(Instant::now())
    }
    fn done(self, what: &str, count: usize) {
        println!("  {what:<66} {:>7}  ({:.1} s)", self::count(count), self.0.elapsed().as_secs_f64());
    }
}

/// Replays the story against the server at `server` (its URL) over `channel`, printing each step, the summary and
/// the commands to try next.
/// A spreadsheet of some of the story's workers and of rows a clerk gets wrong is left at `sheet`, to be tried with
/// `lindung workers import`.
pub async fn run(server: &str, channel: Channel, keys: &Keys, seed: u64, sheet: &Path) -> anyhow::Result<()> {
    let api = Clients { channel };
    let people = data::generate(seed, CITY_WORKERS + PROVINCE_WORKERS);
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    println!("lindung demo (seed {seed}): Kota Bogor, September to November 2025, on {server}");

    let step = Step::start();
    for (key, kind) in [(&keys.city, "city"), (&keys.province, "province"), (&keys.insurer, "insurer")] {
        check_agency(&api, key, kind).await?;
    }
    step.done("agencies: the city, the province, the insurer (WhoAmI)", 3);

    // Workers: the province governs Kota Bogor, so it registers both lists and the invalid rows.
    let step = Step::start();
    let rows: Vec<pb::UpsertWorkersRequest> = people
        .iter()
        .cloned()
        .chain(data::invalid(seed))
        .enumerate()
        .map(|(i, worker)| pb::UpsertWorkersRequest { worker: Some(worker), client_ref: format!("row-{}", i + 1) })
        .collect();
    let mut replies = api.workers(&keys.province)?.upsert_workers(tokio_stream::iter(rows)).await?.into_inner();
    let mut registered = 0;
    while let Some(reply) = replies.message().await? {
        match reply.result {
            Some(pb::upsert_workers_response::Result::Outcome(_)) => registered += 1,
            Some(pb::upsert_workers_response::Result::Error(status)) => {
                *refusals.entry(format!("worker {}", Refusal::from_status(&status).reason)).or_default() += 1
            }
            None => {}
        }
    }
    step.done("workers registered (UpsertWorkers stream)", registered);

    let step = Step::start();
    let city_subsidy =
        subsidy(&api, &keys.city, "Kota Bogor", "Keputusan Wali Kota Bogor No. 400.5/123/2025", 8_000, "1000000000")
            .await?;
    let province_subsidy = subsidy(
        &api,
        &keys.province,
        "Provinsi Jawa Barat",
        "Keputusan Gubernur Jawa Barat No. 560/Kep.45-Disnakertrans/2025",
        15_000,
        "2000000000",
    )
    .await?;
    step.done("subsidies from September 2025 (city, province)", 2);

    let step = Step::start();
    let city_niks: Vec<String> = people[..CITY_WORKERS].iter().map(|w| w.nik.clone()).collect();
    let accepted = submit(&api, &keys.city, &city_subsidy, "c", &city_niks, &mut refusals).await?;
    step.done("city enrollments accepted (SubmitEnrollments stream)", accepted);
    let step = Step::start();
    let province_niks: Vec<String> =
        people[CITY_WORKERS..].iter().chain(&people[..ON_BOTH_LISTS]).map(|w| w.nik.clone()).collect();
    let accepted = submit(&api, &keys.province, &province_subsidy, "p", &province_niks, &mut refusals).await?;
    step.done("province enrollments accepted (some already funded by the city)", accepted);

    let step = Step::start();
    let confirmed = confirm_all(&api, &keys.insurer).await?;
    step.done("confirmed by BPJS Ketenagakerjaan (DecideEnrollments stream)", confirmed);

    let mut payments = 0;
    let step = Step::start();
    for (month, paid_on) in [("2025-09", "2025-09-10"), ("2025-10", "2025-10-10")] {
        payments += bill_and_pay(&api, keys, [&city_subsidy, &province_subsidy], month, paid_on).await?;
    }
    step.done("bills issued and paid for September and October 2025", payments);

    // Two workers of the province's list die in their second paid month.
    let step = Step::start();
    let mut claims = Vec::new();
    for (n, worker) in people[CITY_WORKERS..CITY_WORKERS + 2].iter().enumerate() {
        claims.push(death_claim(&api, &keys.insurer, n, &worker.nik).await?);
    }
    step.done("JKM death claims filed, assessed, approved and paid", claims.len());

    let step = Step::start();
    let paid = bill_and_pay(&api, keys, [&city_subsidy, &province_subsidy], "2025-11", "2025-11-10").await?;
    step.done("bills issued and paid for November 2025", paid);

    // The city's social-affairs office checks its own spreadsheet against the store: four of its workers were left
    // off by mistake, two rows are the province's workers, one NIK was never registered.
    let step = Step::start();
    let list: Vec<&str> = people[4..CITY_WORKERS]
        .iter()
        .chain(&people[CITY_WORKERS + 10..CITY_WORKERS + 12])
        .map(|w| w.nik.as_str())
        .chain([data::UNREGISTERED_NIK])
        .collect();
    let reconciled = reconcile(&api, &keys.city, &city_subsidy, "2025-11", &list).await?;
    step.done("rows of the city's list reconciled for November 2025 (Reconcile)", list.len());

    let step = Step::start();
    let covered = covered_on(&api, &keys.insurer, people.iter().map(|w| w.nik.clone()).collect(), AS_OF).await?;
    step.done(&format!("workers covered for JKM on {AS_OF} (VerifyCoverageStream)"), covered);

    let sample: Vec<pb::Worker> = people[CITY_WORKERS + 100..CITY_WORKERS + 120]
        .iter()
        .cloned()
        .chain(data::invalid(seed).into_iter().take(4))
        .collect();
    if let Some(dir) = sheet.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    data::write_sheet(sheet, &sample).with_context(|| format!("cannot write {}", sheet.display()))?;

    println!("\nSummary");
    println!("  {} workers protected as of {AS_OF} (asked of the coverage service)", count(covered));
    for (funder, key, id) in [
        ("Pemerintah Kota Bogor", &keys.city, &city_subsidy),
        ("Pemerintah Provinsi Jawa Barat", &keys.province, &province_subsidy),
    ] {
        let usage = api
            .subsidies(key)?
            .get_subsidy_usage(pb::GetSubsidyUsageRequest { subsidy_id: id.clone() })
            .await?
            .into_inner();
        let active = count(usage.active as usize);
        println!("  {funder}: {active} active enrollments, {} a month", rupiah(usage.monthly_commitment.as_ref()));
    }
    println!("  refused:");
    for (why, n) in &refusals {
        println!("    {why}: {}", count(*n));
    }
    println!("  the city's list for November 2025:");
    for (class, n) in &reconciled {
        println!("    {class}: {}", count(*n));
    }
    for claim in &claims {
        let total = claim.breakdown.as_ref().and_then(|b| b.total.clone());
        println!("  claim {} ({:?}): {} paid", claim.id, claim.status(), rupiah(total.as_ref()));
    }

    println!("\nTry next, against the same server:");
    let nik = &people[CITY_WORKERS + 2].nik;
    let (host, plaintext) = match server.split_once("://") {
        Some(("https", host)) => (host, ""),
        Some((_, host)) => (host, "-plaintext "),
        None => (server, "-plaintext "),
    };
    println!("  grpcurl {plaintext}{host} list");
    println!(
        "  grpcurl {plaintext}-H 'authorization: Bearer {}' -d '{{\"nik\": \"{nik}\", \"date\": \"2025-11-30\", \"programme\": \"PROGRAMME_JKM\"}}' {host} lindung.v1.CoverageService/VerifyCoverage",
        keys.insurer
    );
    println!(
        "  grpcurl {plaintext}-H 'authorization: Bearer {}' -d '{{\"subsidy_id\": \"{city_subsidy}\"}}' {host} lindung.v1.SubsidyService/GetSubsidyUsage",
        keys.city
    );
    println!(
        "  curl -s -H 'authorization: Bearer {}' -H 'content-type: application/json' -d '{{\"claim_id\": \"{}\"}}' {server}/lindung.v1.ClaimService/GetClaim",
        keys.insurer,
        claims.first().map_or("", |c| c.id.as_str())
    );
    let sheet = sheet.display();
    println!("  export LINDUNG_SERVER={server} LINDUNG_KEY={}   # the city's key", keys.city);
    println!("  lindung workers import {sheet} --dry-run   # 24 rows: checks them, sends nothing");
    println!("  lindung workers import {sheet}             # then open the result file beside it");
    Ok(())
}

/// Refuses to play the story with a key of the wrong kind of agency (a `--server` run given the keys mixed up).
async fn check_agency(api: &Clients, key: &str, kind: &str) -> anyhow::Result<()> {
    let me = api.agency(key)?.who_am_i(pb::WhoAmIRequest {}).await.with_context(|| format!("the {kind}'s key"))?;
    let agency = me.into_inner().agency.context("no agency in the answer")?;
    let is = pb::AgencyKind::try_from(agency.kind).unwrap_or_default().as_str_name().to_ascii_lowercase();
    anyhow::ensure!(is.ends_with(kind), "the {kind}'s key belongs to {} ({is})", agency.name);
    Ok(())
}

/// Reconciles `niks` (one row each) against `subsidy` for `month`; answers the count per class, zeros left out.
async fn reconcile(
    api: &Clients,
    key: &str,
    subsidy: &str,
    month: &str,
    niks: &[&str],
) -> anyhow::Result<BTreeMap<String, usize>> {
    use pb::reconcile_request::Item;
    let start = pb::ReconcileRequest {
        item: Some(Item::Start(pb::ReconcileStart { subsidy_ids: vec![subsidy.into()], month: month.into() })),
    };
    let rows = niks.iter().map(|nik| pb::ReconcileRequest {
        item: Some(Item::Row(pb::ListRow { nik: (*nik).into(), ..Default::default() })),
    });
    let requests: Vec<pb::ReconcileRequest> = std::iter::once(start).chain(rows).collect();
    let mut replies = api.reconcile(key)?.reconcile(tokio_stream::iter(requests)).await?.into_inner();
    while let Some(reply) = replies.message().await? {
        if let Some(pb::reconcile_response::Item::Summary(summary)) = reply.item {
            let counts = summary.counts.iter().filter(|c| c.count > 0).map(|c| {
                let class = c.class().as_str_name().trim_start_matches("DIFFERENCE_CLASS_").to_owned();
                (class, c.count as usize)
            });
            return Ok(counts.collect());
        }
    }
    anyhow::bail!("the reconciliation ended without its summary")
}

async fn subsidy(
    api: &Clients,
    key: &str,
    area: &str,
    legal_basis: &str,
    quota: u32,
    budget: &str,
) -> anyhow::Result<String> {
    let area_code = if area == "Kota Bogor" { "32.71" } else { "32" };
    let subsidy = pb::Subsidy {
        name: format!("Iuran BPJS Ketenagakerjaan pekerja rentan {area}"),
        legal_basis: legal_basis.into(),
        area_code: area_code.into(),
        first_month: "2025-09".into(),
        last_month: "2025-12".into(),
        quota,
        budget_ceiling: Some(pb::Rupiah { amount: budget.into() }),
        ..Default::default()
    };
    let request = pb::CreateSubsidyRequest { request_id: format!("demo-subsidy-{area_code}"), subsidy: Some(subsidy) };
    let created = api.subsidies(key)?.create_subsidy(request).await?.into_inner();
    Ok(created.subsidy.context("no subsidy in the answer")?.id)
}

async fn submit(
    api: &Clients,
    key: &str,
    subsidy: &str,
    prefix: &str,
    niks: &[String],
    refusals: &mut BTreeMap<String, usize>,
) -> anyhow::Result<usize> {
    let rows: Vec<pb::SubmitEnrollmentsRequest> = niks
        .iter()
        .enumerate()
        .map(|(i, nik)| pb::SubmitEnrollmentsRequest {
            submission: Some(pb::SubmitEnrollmentRequest {
                request_id: format!("demo-{prefix}-{i}"),
                subsidy_id: subsidy.into(),
                worker_nik: nik.clone(),
                first_month: "2025-09".into(),
            }),
        })
        .collect();
    let mut replies = api.enrollments(key)?.submit_enrollments(tokio_stream::iter(rows)).await?.into_inner();
    let mut accepted = 0;
    while let Some(reply) = replies.message().await? {
        match reply.result {
            Some(pb::submit_enrollments_response::Result::Enrollment(_)) => accepted += 1,
            Some(pb::submit_enrollments_response::Result::Error(status)) => {
                *refusals.entry(format!("enrollment {}", Refusal::from_status(&status).reason)).or_default() += 1
            }
            None => {}
        }
    }
    Ok(accepted)
}

async fn confirm_all(api: &Clients, key: &str) -> anyhow::Result<usize> {
    let mut insurer = api.enrollments(key)?;
    let mut pending = insurer.stream_pending_enrollments(pb::StreamPendingEnrollmentsRequest {}).await?.into_inner();
    let mut decisions = Vec::new();
    while let Some(enrollment) = pending.message().await? {
        decisions.push(pb::DecideEnrollmentsRequest {
            decision: Some(pb::decide_enrollments_request::Decision::Confirm(pb::ConfirmEnrollmentRequest {
                enrollment_id: enrollment.id,
                participant_number: format!("{}", 25_000_000_000u64 + decisions.len() as u64),
                protection_start: "2025-09-01".into(),
            })),
        });
    }
    let mut replies = insurer.decide_enrollments(tokio_stream::iter(decisions)).await?.into_inner();
    let mut confirmed = 0;
    while let Some(reply) = replies.message().await? {
        match reply.result {
            Some(pb::decide_enrollments_response::Result::Enrollment(_)) => confirmed += 1,
            other => anyhow::bail!("a confirmation was refused: {other:?}"),
        }
    }
    Ok(confirmed)
}

/// The insurer bills `month` to both funders; each pays what is outstanding on `paid_on`. Answers the payments.
async fn bill_and_pay(
    api: &Clients,
    keys: &Keys,
    subsidies: [&String; 2],
    month: &str,
    paid_on: &str,
) -> anyhow::Result<usize> {
    for (subsidy, key) in subsidies.into_iter().zip([&keys.city, &keys.province]) {
        let bill = api
            .contributions(&keys.insurer)?
            .issue_bill(pb::IssueBillRequest { subsidy_id: subsidy.clone(), month: month.into() })
            .await?
            .into_inner()
            .bill
            .context("no bill in the answer")?;
        api.contributions(key)?
            .record_payment(pb::RecordPaymentRequest {
                subsidy_id: subsidy.clone(),
                amount: bill.outstanding.clone(),
                paid_on: paid_on.into(),
                reference: format!("TRF-{month}-{}", &subsidy[..8.min(subsidy.len())]),
            })
            .await?;
    }
    Ok(2)
}

async fn death_claim(api: &Clients, key: &str, n: usize, nik: &str) -> anyhow::Result<pb::Claim> {
    let mut client = api.claims(key)?;
    let request = pb::FileClaimRequest {
        request_id: format!("demo-claim-{n}"),
        worker_nik: nik.into(),
        event: Some(pb::Event {
            kind: pb::ClaimEvent::Death as i32,
            date: format!("2025-10-{:02}", 18 + n),
            children: vec![],
            accident_costs: None,
        }),
        heirs: vec![pb::Heir {
            full_name: data::heir_name(n).into(),
            nik: String::new(),
            relationship: pb::Relationship::Spouse as i32,
            bank_name: "BRI".into(),
            bank_account: format!("01234567890{n:02}"),
        }],
        documents: (1..=8).collect(),
        death_certificate_number: format!("3271-KM-2025-{:04}", 310 + n),
        ..Default::default()
    };
    let filed = client.file_claim(request).await?.into_inner().claim.context("no claim in the answer")?;
    let id = filed.id;
    client.assess_claim(pb::AssessClaimRequest { claim_id: id.clone() }).await?;
    client
        .decide_claim(pb::DecideClaimRequest { claim_id: id.clone(), approve: true, rejection_reason: String::new() })
        .await?;
    let paid = client
        .pay_claim(pb::PayClaimRequest {
            claim_id: id.clone(),
            reference: format!("PAY-{id}"),
            paid_on: "2025-10-28".into(),
        })
        .await?
        .into_inner()
        .claim
        .context("no claim in the answer")?;
    Ok(paid)
}

async fn covered_on(api: &Clients, key: &str, niks: Vec<String>, date: &str) -> anyhow::Result<usize> {
    let rows: Vec<pb::VerifyCoverageRequest> = niks
        .into_iter()
        .map(|nik| pb::VerifyCoverageRequest {
            nik,
            date: date.into(),
            programme: pb::Programme::Jkm as i32,
            ..Default::default()
        })
        .collect();
    let mut replies = api.coverage(key)?.verify_coverage_stream(tokio_stream::iter(rows)).await?.into_inner();
    let mut covered = 0;
    while let Some(reply) = replies.message().await? {
        covered += usize::from(reply.covered);
    }
    Ok(covered)
}
