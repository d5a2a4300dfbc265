//! The authorization matrix: every RPC × every kind of agency (city, province, insurer) × whose resource the call
//! aims at (the caller's own, another agency's inside the caller's area, or one outside it), each case called over
//! the real socket and its answer compared with the one [`expected`] derives from `auth::TABLE`. The cases are
//! generated from the table, so no RPC is left without its nine cases; [`request`] matches every `Rpc` without a
//! wildcard, so no RPC is left without a request; and the table is checked against the services' descriptors.
//!
//! A case counts as **allowed** when its answer is anything but PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND or
//! INVALID_ARGUMENT: a call refused for a domain reason after authorization (FAILED_PRECONDITION: an enrollment
//! already decided, a claim not yet assessed) has passed authorization. INVALID_ARGUMENT is never expected: every
//! request is valid, so that a refusal proves the scope and not a typo. A stream's refusal may come in its first
//! row (`error`, a `google.rpc.Status`) rather than as the call's status; both count.
//!
//! The matrix is published as docs/AUTHORIZATION.md; a test fails when the committed file is not the one
//! [`markdown`] renders (`LINDUNG_WRITE_DOCS=1` rewrites it).

use std::fmt::Write as _;

use bytes::{Buf, BufMut, Bytes};
use lindung::{
    agency::AgencyKind,
    auth::{Rpc, Scope, TABLE, scope},
    proto::v1::{self as pb},
};
use prost::Message;
use prost_reflect::{DynamicMessage, Value};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::Channel,
};

use crate::helpers::{Bearer, TestApp, bogor_worker};

/// Whose resource a case aims at, as seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ownership {
    /// The caller's own (for the insurer, which owns none: Kota Bogor's).
    Own,
    /// Another agency's, inside the caller's area: Jawa Barat's for Kota Bogor, Kota Bogor's for Jawa Barat (both
    /// fund workers of Kota Bogor).
    Foreign,
    /// DKI Jakarta's: another agency's, outside the caller's area.
    OutOfArea,
}

const OWNERSHIPS: [Ownership; 3] = [Ownership::Own, Ownership::Foreign, Ownership::OutOfArea];
const KINDS: [AgencyKind; 3] = AgencyKind::ALL;

impl Ownership {
    fn as_str(self) -> &'static str {
        match self {
            Ownership::Own => "own",
            Ownership::Foreign => "another agency's",
            Ownership::OutOfArea => "out of area",
        }
    }
}

/// What authorization answered a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    NotFound,
    PermissionDenied,
    /// Never expected: the request was malformed, the key refused or the server failed.
    Broken(Code),
}

impl Outcome {
    fn of(code: Code) -> Outcome {
        match code {
            Code::NotFound => Outcome::NotFound,
            Code::PermissionDenied => Outcome::PermissionDenied,
            Code::InvalidArgument | Code::Unauthenticated | Code::Internal | Code::Unimplemented => {
                Outcome::Broken(code)
            }
            _ => Outcome::Allowed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::NotFound => "NOT_FOUND",
            Outcome::PermissionDenied => "PERMISSION_DENIED",
            Outcome::Broken(_) => "broken",
        }
    }
}

/// An answer to a resource outside the caller's scope that differs from the rule of [`expected`], and why.
struct Exception {
    rpcs: &'static [Rpc],
    ownership: &'static [Ownership],
    outcome: Outcome,
    why: &'static str,
}

const BOTH: &[Ownership] = &[Ownership::Foreign, Ownership::OutOfArea];

/// Where the honest answer is not the rule's (published with the matrix).
const EXCEPTIONS: &[Exception] = &[
    Exception {
        rpcs: &[Rpc::WhoAmI, Rpc::ListSubsidies, Rpc::ListAuditRecords, Rpc::ListWorkerAccess, Rpc::Subscribe],
        ownership: BOTH,
        outcome: Outcome::Allowed,
        why: "the request names no resource: the caller is answered about itself, or a list or feed holding only \
              what it may see",
    },
    Exception {
        rpcs: &[Rpc::ListEnrollments, Rpc::ListClaims],
        ownership: BOTH,
        outcome: Outcome::Allowed,
        why: "a filter naming another agency's subsidy or worker narrows the caller's own list, answered empty",
    },
    Exception {
        rpcs: &[Rpc::CreateSubsidy],
        ownership: &[Ownership::Foreign],
        outcome: Outcome::Allowed,
        why: "a new subsidy has no owner yet: the caller may fund an area it governs where another agency funds too",
    },
    Exception {
        rpcs: &[Rpc::CreateSubsidy],
        ownership: &[Ownership::OutOfArea],
        outcome: Outcome::PermissionDenied,
        why: "a subsidy over an area outside the funder's region is a write outside its area",
    },
    Exception {
        rpcs: &[Rpc::GetWorker],
        ownership: &[Ownership::OutOfArea],
        outcome: Outcome::NotFound,
        why: "a worker outside the caller's area is answered as absent: their existence is personal data too",
    },
];

/// The rule [`expected`] follows, as published with the matrix.
const RULE: &str = "A kind the table refuses an RPC is answered PERMISSION_DENIED; a scope of *all* is allowed \
everything. With *own agency*, another agency's subsidies, enrollments, bills, claims, audit records and the workers \
it does not fund are answered NOT_FOUND: their existence is not the caller's to learn. With *own area*, another \
agency's worker inside the caller's area is allowed; a write or a listing outside the area is refused \
PERMISSION_DENIED.";

/// What `auth::TABLE`'s `scope` gives a call aimed at a resource of `ownership`: [`RULE`], but for [`EXCEPTIONS`].
fn expected(scope: Option<Scope>, ownership: Ownership, rpc: Rpc) -> Outcome {
    let Some(scope) = scope else { return Outcome::PermissionDenied };
    if scope == Scope::All || ownership == Ownership::Own {
        return Outcome::Allowed;
    }
    if let Some(exception) = EXCEPTIONS.iter().find(|e| e.rpcs.contains(&rpc) && e.ownership.contains(&ownership)) {
        return exception.outcome;
    }
    match (scope, ownership) {
        (Scope::OwnArea, Ownership::Foreign) | (Scope::All, _) => Outcome::Allowed,
        (Scope::OwnArea, _) => Outcome::PermissionDenied,
        (Scope::OwnAgency, _) => Outcome::NotFound,
    }
}

/// The RPCs that change what later cases see (an enrollment ended, a worker deceased): called last, in this order.
const LAST: [Rpc; 3] = [Rpc::EndEnrollment, Rpc::HandOverEnrollment, Rpc::ReportDeath];

/// Every case: each RPC of the table, for each kind and ownership.
fn cases() -> Vec<(Rpc, AgencyKind, Ownership)> {
    let mut rpcs: Vec<Rpc> = TABLE.iter().map(|(rpc, _)| *rpc).filter(|rpc| !LAST.contains(rpc)).collect();
    rpcs.extend(LAST);
    rpcs.into_iter()
        .flat_map(|rpc| KINDS.into_iter().flat_map(move |kind| OWNERSHIPS.map(|ownership| (rpc, kind, ownership))))
        .collect()
}

/// One funding agency's resources, which a case aims at.
struct Party {
    /// The area of its subsidy.
    area: &'static str,
    worker: pb::Worker,
    subsidy: String,
    enrollment: String,
    participant_number: String,
    claim: String,
    /// The audit record of the creation of its subsidy.
    audit_record: i64,
    /// An attestation of the worker's coverage.
    attestation: String,
}

/// The resources of Kota Bogor, Jawa Barat and DKI Jakarta: each funds one worker of its area, confirmed and
/// billed for 2025-09, and has given notice of a work accident of theirs.
struct Fixture {
    bogor: Party,
    jabar: Party,
    jakarta: Party,
}

impl Fixture {
    fn party(&self, kind: AgencyKind, ownership: Ownership) -> &Party {
        match (kind, ownership) {
            (_, Ownership::OutOfArea) => &self.jakarta,
            (AgencyKind::Province, Ownership::Own) | (AgencyKind::City | AgencyKind::Insurer, Ownership::Foreign) => {
                &self.jabar
            }
            (AgencyKind::Province, Ownership::Foreign) | (AgencyKind::City | AgencyKind::Insurer, Ownership::Own) => {
                &self.bogor
            }
        }
    }
}

/// A worker of DKI Jakarta (Gambir, Jakarta Pusat), with a NIK of Jakarta Pusat.
fn jakarta_worker(n: u32) -> pb::Worker {
    let worker = bogor_worker(n);
    pb::Worker {
        nik: format!("317101{}", &worker.nik[6..]),
        full_name: format!("Dewi Lestari {n}"),
        domicile_village_code: "31.71.01.1001".into(),
        ..worker
    }
}

/// The key of the agency standing for `kind`: Kota Bogor, Jawa Barat, BPJS Ketenagakerjaan.
fn key(app: &TestApp, kind: AgencyKind) -> &str {
    match kind {
        AgencyKind::City => &app.keys.bogor,
        AgencyKind::Province => &app.keys.jabar,
        AgencyKind::Insurer => &app.keys.insurer,
    }
}

/// The valid request (the one message) of `rpc` aimed at `party`'s resources; `tag` keeps request ids and
/// references distinct.
fn request(rpc: Rpc, party: &Party, tag: &str) -> Vec<u8> {
    let nik = party.worker.nik.clone();
    let request_id = format!("matrix-{tag}");
    let subsidy_id = party.subsidy.clone();
    let enrollment_id = party.enrollment.clone();
    let claim_id = party.claim.clone();
    let confirm = || pb::ConfirmEnrollmentRequest {
        enrollment_id: enrollment_id.clone(),
        participant_number: party.participant_number.clone(),
        protection_start: "2025-09-01".into(),
    };
    let submission = || pb::SubmitEnrollmentRequest {
        request_id: request_id.clone(),
        subsidy_id: subsidy_id.clone(),
        worker_nik: nik.clone(),
        first_month: "2025-09".into(),
    };
    let verify = || pb::VerifyCoverageRequest {
        nik: nik.clone(),
        date: "2025-09-15".into(),
        programme: pb::Programme::Jkk as i32,
        ..Default::default()
    };
    match rpc {
        Rpc::WhoAmI => pb::WhoAmIRequest {}.encode_to_vec(),
        Rpc::UpsertWorker => pb::UpsertWorkerRequest { worker: Some(party.worker.clone()) }.encode_to_vec(),
        Rpc::UpsertWorkers => {
            pb::UpsertWorkersRequest { worker: Some(party.worker.clone()), client_ref: tag.into() }.encode_to_vec()
        }
        Rpc::GetWorker => pb::GetWorkerRequest { nik: nik.clone() }.encode_to_vec(),
        Rpc::ListWorkers => {
            pb::ListWorkersRequest { area_code: party.area.into(), ..Default::default() }.encode_to_vec()
        }
        Rpc::ReportDeath => pb::ReportDeathRequest {
            worker_nik: nik.clone(),
            date_of_death: "2025-11-20".into(),
            certificate_number: format!("KM-{nik}"),
        }
        .encode_to_vec(),
        Rpc::CreateSubsidy => {
            let subsidy = pb::Subsidy {
                name: format!("Iuran pekerja rentan {}", party.area),
                legal_basis: "Keputusan No. 400.5/123/2025".into(),
                area_code: party.area.into(),
                first_month: "2026-01".into(),
                last_month: "2026-06".into(),
                quota: 10,
                budget_ceiling: Some(pb::Rupiah { amount: "10000000".into() }),
                ..Default::default()
            };
            pb::CreateSubsidyRequest { request_id: request_id.clone(), subsidy: Some(subsidy) }.encode_to_vec()
        }
        Rpc::GetSubsidy => pb::GetSubsidyRequest { subsidy_id: subsidy_id.clone() }.encode_to_vec(),
        Rpc::ListSubsidies => pb::ListSubsidiesRequest::default().encode_to_vec(),
        Rpc::GetSubsidyUsage => pb::GetSubsidyUsageRequest { subsidy_id: subsidy_id.clone() }.encode_to_vec(),
        Rpc::SubmitEnrollment => submission().encode_to_vec(),
        Rpc::SubmitEnrollments => pb::SubmitEnrollmentsRequest { submission: Some(submission()) }.encode_to_vec(),
        Rpc::EndEnrollment => pb::EndEnrollmentRequest {
            enrollment_id: enrollment_id.clone(),
            end_month: "2025-12".into(),
            reason: pb::EndReason::FundingStopped as i32,
        }
        .encode_to_vec(),
        Rpc::HandOverEnrollment => pb::HandOverEnrollmentRequest {
            request_id: request_id.clone(),
            enrollment_id: enrollment_id.clone(),
            target_subsidy_id: subsidy_id.clone(),
            month: "2025-12".into(),
        }
        .encode_to_vec(),
        Rpc::ConfirmEnrollment => confirm().encode_to_vec(),
        Rpc::RefuseEnrollment => pb::RefuseEnrollmentRequest {
            enrollment_id: enrollment_id.clone(),
            reason: pb::InsurerRefusal::NikNotFound as i32,
            detail: String::new(),
        }
        .encode_to_vec(),
        Rpc::DecideEnrollments => {
            let decision = pb::decide_enrollments_request::Decision::Confirm(confirm());
            pb::DecideEnrollmentsRequest { decision: Some(decision) }.encode_to_vec()
        }
        Rpc::ListPendingEnrollments => pb::ListPendingEnrollmentsRequest::default().encode_to_vec(),
        Rpc::StreamPendingEnrollments => pb::StreamPendingEnrollmentsRequest {}.encode_to_vec(),
        Rpc::GetEnrollment => pb::GetEnrollmentRequest { enrollment_id: enrollment_id.clone() }.encode_to_vec(),
        Rpc::ListEnrollments => {
            pb::ListEnrollmentsRequest { subsidy_id: subsidy_id.clone(), ..Default::default() }.encode_to_vec()
        }
        Rpc::IssueBill => {
            pb::IssueBillRequest { subsidy_id: subsidy_id.clone(), month: "2025-09".into() }.encode_to_vec()
        }
        Rpc::RecordPayment => pb::RecordPaymentRequest {
            subsidy_id: subsidy_id.clone(),
            amount: Some(pb::Rupiah { amount: "16800".into() }),
            paid_on: "2025-09-10".into(),
            reference: request_id.clone(),
        }
        .encode_to_vec(),
        Rpc::ListBills => pb::ListBillsRequest { subsidy_id: subsidy_id.clone() }.encode_to_vec(),
        Rpc::GetArrears => {
            pb::GetArrearsRequest { subsidy_id: subsidy_id.clone(), worker_nik: nik.clone() }.encode_to_vec()
        }
        Rpc::RecordBackdate => {
            pb::RecordBackdateRequest { subsidy_id: subsidy_id.clone(), month: "2025-10".into() }.encode_to_vec()
        }
        Rpc::VerifyCoverage => verify().encode_to_vec(),
        Rpc::VerifyCoverageStream => verify().encode_to_vec(),
        Rpc::FileClaim => pb::FileClaimRequest {
            request_id: request_id.clone(),
            worker_nik: nik.clone(),
            event: Some(pb::Event {
                kind: pb::ClaimEvent::Accident as i32,
                date: "2025-09-15".into(),
                children: vec![],
                accident_costs: Some(pb::AccidentCosts {
                    medical: Some(pb::Rupiah { amount: "3250000".into() }),
                    ..Default::default()
                }),
            }),
            notice_id: claim_id.clone(),
            ..Default::default()
        }
        .encode_to_vec(),
        Rpc::FileAccidentNotice => accident_notice(&request_id, &nik).encode_to_vec(),
        Rpc::AddClaimDocuments => pb::AddClaimDocumentsRequest {
            claim_id: claim_id.clone(),
            documents: vec![pb::ClaimDocument::ParticipantCard as i32],
        }
        .encode_to_vec(),
        Rpc::AssessClaim => pb::AssessClaimRequest { claim_id: claim_id.clone() }.encode_to_vec(),
        Rpc::DecideClaim => {
            pb::DecideClaimRequest { claim_id: claim_id.clone(), approve: true, rejection_reason: String::new() }
                .encode_to_vec()
        }
        Rpc::PayClaim => pb::PayClaimRequest {
            claim_id: claim_id.clone(),
            reference: request_id.clone(),
            paid_on: "2025-09-30".into(),
        }
        .encode_to_vec(),
        Rpc::GetClaim => pb::GetClaimRequest { claim_id: claim_id.clone() }.encode_to_vec(),
        Rpc::ListClaims => pb::ListClaimsRequest { worker_nik: nik.clone(), ..Default::default() }.encode_to_vec(),
        Rpc::EstimateBenefit => pb::EstimateBenefitRequest {
            worker_nik: nik.clone(),
            participant_number: String::new(),
            event: Some(pb::Event {
                kind: pb::ClaimEvent::Death as i32,
                date: "2025-10-15".into(),
                ..Default::default()
            }),
        }
        .encode_to_vec(),
        Rpc::ListSigningKeys => pb::ListSigningKeysRequest {}.encode_to_vec(),
        Rpc::CheckAttestation => pb::CheckAttestationRequest { attestation: party.attestation.clone() }.encode_to_vec(),
        Rpc::ListAuditRecords => pb::ListAuditRecordsRequest::default().encode_to_vec(),
        Rpc::ListWorkerAccess => pb::ListWorkerAccessRequest::default().encode_to_vec(),
        Rpc::SubjectAccessReport => {
            pb::SubjectAccessReportRequest { nik: nik.clone(), ..Default::default() }.encode_to_vec()
        }
        Rpc::GetInclusionProof => {
            let record = pb::get_inclusion_proof_request::Record::Id(party.audit_record);
            pb::GetInclusionProofRequest { record: Some(record) }.encode_to_vec()
        }
        Rpc::Subscribe => pb::SubscribeRequest::default().encode_to_vec(),
        Rpc::Reconcile => {
            let start = pb::ReconcileStart { subsidy_ids: vec![subsidy_id.clone()], month: "2025-09".into() };
            pb::ReconcileRequest { item: Some(pb::reconcile_request::Item::Start(start)) }.encode_to_vec()
        }
        Rpc::GetMonthlyStatement => {
            pb::GetMonthlyStatementRequest { subsidy_id: subsidy_id.clone(), month: "2025-09".into() }.encode_to_vec()
        }
    }
}

fn accident_notice(request_id: &str, nik: &str) -> pb::FileAccidentNoticeRequest {
    pb::FileAccidentNoticeRequest {
        request_id: request_id.into(),
        worker_nik: nik.into(),
        accident_date: "2025-09-15".into(),
        notice: Some(pb::AccidentNotice {
            place: "Jl. Pajajaran".into(),
            cause: "hit by a motorbike while delivering".into(),
            // 2025-09-15 10:00 WIB.
            occurred_at: Some(prost_types::Timestamp { seconds: 1_757_905_200, nanos: 0 }),
            notifier_name: "Kelurahan Baranangsiang".into(),
            notifier_phone: "0812-1111-2222".into(),
        }),
        participant_number: String::new(),
    }
}

/// Passes encoded messages through as they are: one caller for every RPC, unary or streaming, whatever its types.
#[derive(Clone, Copy)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Calls `rpc` with `message` as the agency of `key` and answers the code of the call, or of its first row: a
/// unary RPC is a stream of one message each way on the wire, so one streaming call serves them all.
async fn call(channel: &Channel, key: &str, rpc: Rpc, message: Vec<u8>) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("the channel is ready");
    let mut request = tonic::Request::new(tokio_stream::iter([message]));
    request.metadata_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    let path = http::uri::PathAndQuery::from_static(rpc.method());
    let response = match grpc.streaming(request, path, Raw).await {
        Ok(response) => response,
        Err(status) => return status.code(),
    };
    let first = match response.into_inner().message().await {
        Ok(Some(first)) => first,
        Ok(None) => return Code::Ok,
        Err(status) => return status.code(),
    };
    row_code(rpc, first)
}

/// The code in a stream row's `error` field (a `google.rpc.Status`), OK for a row without one.
fn row_code(rpc: Rpc, row: Bytes) -> Code {
    let (service, method) = rpc.method().trim_start_matches('/').split_once('/').unwrap();
    let service = lindung::connect::DESCRIPTORS.get_service_by_name(service).unwrap();
    let method = service.methods().find(|m| m.name() == method).unwrap();
    let row = DynamicMessage::decode(method.output(), row).expect("the row decodes");
    if !row.has_field_by_name("error") {
        return Code::Ok;
    }
    match row.get_field_by_name("error").as_deref() {
        Some(Value::Message(status)) => match status.get_field_by_name("code").as_deref() {
            Some(Value::I32(code)) => Code::from(*code),
            other => panic!("a status without a code: {other:?}"),
        },
        other => panic!("an error that is not a status: {other:?}"),
    }
}

/// Sets up the three parties: workers registered, subsidies created, enrollments submitted and confirmed, bills
/// issued for 2025-09, an accident notice each and an attestation of each worker's coverage.
async fn fixture(app: &TestApp) -> Fixture {
    crate::enrollments::register(app, 0..2).await;
    let jakarta = jakarta_worker(2);
    app.workers(&app.keys.jakarta)
        .await
        .upsert_worker(pb::UpsertWorkerRequest { worker: Some(jakarta.clone()) })
        .await
        .unwrap();
    let funders = [
        (&app.keys.bogor, "32.71", bogor_worker(0)),
        (&app.keys.jabar, "32.71", bogor_worker(1)),
        (&app.keys.jakarta, "31", jakarta),
    ];
    let mut parties = Vec::new();
    for (key, area, worker) in funders {
        let subsidy =
            crate::enrollments::create_subsidy_between(app, key, area, 10, "100000000", "2025-09", "2025-12").await;
        let submission = pb::SubmitEnrollmentRequest {
            request_id: "fixture".into(),
            subsidy_id: subsidy.clone(),
            worker_nik: worker.nik.clone(),
            first_month: "2025-09".into(),
        };
        let enrollment = match crate::enrollments::submit_all(app, key, vec![submission]).await.remove(0).result {
            Some(pb::submit_enrollments_response::Result::Enrollment(e)) => e.id,
            other => panic!("{other:?}"),
        };
        parties.push((key, area, worker, subsidy, enrollment));
    }
    assert_eq!(crate::enrollments::confirm_all_pending(app).await, 3);
    let channel = app.channel().await;
    let mut out = Vec::new();
    for (key, area, worker, subsidy, enrollment) in parties {
        crate::contributions::issue(app, &subsidy, "2025-09").await;
        let claim = pb::claim_service_client::ClaimServiceClient::with_interceptor(channel.clone(), Bearer::new(key))
            .file_accident_notice(accident_notice("fixture", &worker.nik))
            .await
            .unwrap()
            .into_inner()
            .claim
            .unwrap()
            .id;
        let attestation = crate::attestation::attest(app, key, &worker.nik, "2025-09-15").await.attestation;
        let audit_record: i64 = sqlx::query_scalar(
            "select id from audit_log where method = '/lindung.v1.SubsidyService/CreateSubsidy' \
             and agency_id = (select funder_id from subsidies where id = $1::uuid)",
        )
        .bind(&subsidy)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        // As `enrollments::confirm_all_pending` numbers them.
        let participant_number = format!("{}", 10_000_000_000u64 + worker.nik[6..].parse::<u64>().unwrap());
        out.push(Party { area, worker, subsidy, enrollment, participant_number, claim, audit_record, attestation });
    }
    let [bogor, jabar, jakarta] = <[Party; 3]>::try_from(out).ok().unwrap();
    Fixture { bogor, jabar, jakarta }
}

#[tokio::test]
async fn every_rpc_answers_every_kind_of_agency_as_the_authorization_table_says() {
    let app = TestApp::spawn().await;
    let fixture = fixture(&app).await;
    let channel = app.channel().await;
    let mut wrong = Vec::new();
    let cases = cases();
    for (i, &(rpc, kind, ownership)) in cases.iter().enumerate() {
        let tag = format!("{i}");
        let code = call(&channel, key(&app, kind), rpc, request(rpc, fixture.party(kind, ownership), &tag)).await;
        let want = expected(scope(kind, rpc), ownership, rpc);
        let got = Outcome::of(code);
        if got != want {
            wrong.push(format!(
                "{} as {} on {}: {:?} ({code:?}), expected {:?}",
                rpc.method(),
                kind.as_str(),
                ownership.as_str(),
                got,
                want
            ));
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases differ from the table:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    app.stop().await;
}

#[test]
fn every_method_of_every_service_has_a_row_and_every_row_its_nine_cases() {
    let methods: Vec<String> = lindung::connect::DESCRIPTORS
        .services()
        .filter(|s| s.package_name() == "lindung.v1")
        .flat_map(|s| {
            s.methods().map(|m| format!("/{}/{}", m.parent_service().full_name(), m.name())).collect::<Vec<_>>()
        })
        .collect();
    let rows: Vec<&str> = TABLE.iter().map(|(rpc, _)| rpc.method()).collect();
    for method in &methods {
        assert!(rows.contains(&method.as_str()), "{method} has no row in auth::TABLE");
    }
    assert_eq!(rows.len(), methods.len(), "auth::TABLE has a row for a method no service has");
    let cases = cases();
    assert_eq!(cases.len(), TABLE.len() * KINDS.len() * OWNERSHIPS.len());
    for (rpc, _) in TABLE {
        assert_eq!(cases.iter().filter(|(r, _, _)| r == rpc).count(), 9, "{rpc:?}");
    }
}

/// `Service/Method`.
fn name(rpc: Rpc) -> &'static str {
    rpc.method().trim_start_matches("/lindung.v1.")
}

/// The matrix as docs/AUTHORIZATION.md publishes it.
fn markdown() -> String {
    let mut out = String::from(
        "# The authorization matrix\n\n\
         What lindung answers every RPC called by each kind of agency, on a resource of the caller's own agency, of \
         another agency inside the caller's area, and out of its area. Generated from `auth::TABLE` \
         (src/auth.rs) by tests/api/authorization.rs, which calls every case on a running server and fails when \
         lindung answers otherwise or when this file is stale (`LINDUNG_WRITE_DOCS=1 cargo test --test api -- \
         authorization::` rewrites it).\n\n\
         *own* is the caller's (for the insurer, which owns no subsidy: Kota Bogor's); *another agency's* is another \
         funder's, inside the caller's area (Jawa Barat's for the city Kota Bogor, Kota Bogor's for the province Jawa \
         Barat: both fund workers of Kota Bogor); *out of area* is DKI Jakarta's. *allowed* means the call passed \
         authorization: it is answered, or refused for a reason of the domain (FAILED_PRECONDITION).\n\n",
    );
    out.push_str(RULE);
    out.push_str("\n\nExceptions:\n\n");
    for exception in EXCEPTIONS {
        let rpcs: Vec<String> = exception.rpcs.iter().map(|rpc| format!("`{}`", name(*rpc))).collect();
        let ownership: Vec<&str> = exception.ownership.iter().map(|o| o.as_str()).collect();
        let _ = writeln!(
            out,
            "- {} ({}): {}; {}.",
            rpcs.join(", "),
            ownership.join(", "),
            exception.outcome.as_str(),
            exception.why
        );
    }
    out.push_str("\n| RPC |");
    for kind in KINDS {
        for ownership in OWNERSHIPS {
            let _ = write!(out, " {}: {} |", kind.as_str(), ownership.as_str());
        }
    }
    out.push_str(&format!("\n|---{}|\n", "|---".repeat(KINDS.len() * OWNERSHIPS.len())));
    for (rpc, _) in TABLE {
        let _ = write!(out, "| `{}` |", name(*rpc));
        for kind in KINDS {
            for ownership in OWNERSHIPS {
                let _ = write!(out, " {} |", expected(scope(kind, *rpc), ownership, *rpc).as_str());
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_published_matrix_is_the_one_the_table_gives() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/AUTHORIZATION.md");
    if std::env::var_os("LINDUNG_WRITE_DOCS").is_some() {
        std::fs::write(path, markdown()).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let rewrite = "LINDUNG_WRITE_DOCS=1 cargo test --test api -- authorization::";
    assert!(committed == markdown(), "docs/AUTHORIZATION.md is stale: rewrite it with `{rewrite}`");
}
