//! Who may call what: API-key authentication and the one authorization table.
//!
//! Every RPC begins with [`crate::state::AppState::authorize`], which authenticates the key, looks the RPC up in
//! [`TABLE`] and answers a [`Caller`] that handlers consult for area checks. The table is mirrored in
//! docs/ARCHITECTURE.md; a test keeps the two equal. tests/api/authorization.rs calls every RPC as every kind of
//! agency on its own, another agency's and an out-of-area resource, and publishes the answers as
//! docs/AUTHORIZATION.md.

use uuid::Uuid;

use crate::{
    agency::{Agency, AgencyKind},
    area::RegionCode,
    audit::Actor,
    error::Error,
};

/// Every RPC lindung serves, for authorization and audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rpc {
    WhoAmI,
    UpsertWorker,
    UpsertWorkers,
    GetWorker,
    ListWorkers,
    ReportDeath,
    CreateSubsidy,
    GetSubsidy,
    ListSubsidies,
    GetSubsidyUsage,
    SubmitEnrollment,
    SubmitEnrollments,
    EndEnrollment,
    HandOverEnrollment,
    ConfirmEnrollment,
    RefuseEnrollment,
    DecideEnrollments,
    ListPendingEnrollments,
    StreamPendingEnrollments,
    GetEnrollment,
    ListEnrollments,
    IssueBill,
    RecordPayment,
    ListBills,
    GetArrears,
    RecordBackdate,
    VerifyCoverage,
    VerifyCoverageStream,
    FileClaim,
    FileAccidentNotice,
    AddClaimDocuments,
    AssessClaim,
    DecideClaim,
    PayClaim,
    GetClaim,
    ListClaims,
    EstimateBenefit,
    ListSigningKeys,
    CheckAttestation,
    ListAuditRecords,
    ListWorkerAccess,
    SubjectAccessReport,
    GetInclusionProof,
    Subscribe,
    Reconcile,
    GetMonthlyStatement,
}

impl Rpc {
    /// The full gRPC method name.
    pub fn method(self) -> &'static str {
        match self {
            Rpc::WhoAmI => "/lindung.v1.AgencyService/WhoAmI",
            Rpc::UpsertWorker => "/lindung.v1.WorkerService/UpsertWorker",
            Rpc::UpsertWorkers => "/lindung.v1.WorkerService/UpsertWorkers",
            Rpc::GetWorker => "/lindung.v1.WorkerService/GetWorker",
            Rpc::ListWorkers => "/lindung.v1.WorkerService/ListWorkers",
            Rpc::ReportDeath => "/lindung.v1.WorkerService/ReportDeath",
            Rpc::CreateSubsidy => "/lindung.v1.SubsidyService/CreateSubsidy",
            Rpc::GetSubsidy => "/lindung.v1.SubsidyService/GetSubsidy",
            Rpc::ListSubsidies => "/lindung.v1.SubsidyService/ListSubsidies",
            Rpc::GetSubsidyUsage => "/lindung.v1.SubsidyService/GetSubsidyUsage",
            Rpc::SubmitEnrollment => "/lindung.v1.EnrollmentService/SubmitEnrollment",
            Rpc::SubmitEnrollments => "/lindung.v1.EnrollmentService/SubmitEnrollments",
            Rpc::EndEnrollment => "/lindung.v1.EnrollmentService/EndEnrollment",
            Rpc::HandOverEnrollment => "/lindung.v1.EnrollmentService/HandOverEnrollment",
            Rpc::ConfirmEnrollment => "/lindung.v1.EnrollmentService/ConfirmEnrollment",
            Rpc::RefuseEnrollment => "/lindung.v1.EnrollmentService/RefuseEnrollment",
            Rpc::DecideEnrollments => "/lindung.v1.EnrollmentService/DecideEnrollments",
            Rpc::ListPendingEnrollments => "/lindung.v1.EnrollmentService/ListPendingEnrollments",
            Rpc::StreamPendingEnrollments => "/lindung.v1.EnrollmentService/StreamPendingEnrollments",
            Rpc::GetEnrollment => "/lindung.v1.EnrollmentService/GetEnrollment",
            Rpc::ListEnrollments => "/lindung.v1.EnrollmentService/ListEnrollments",
            Rpc::IssueBill => "/lindung.v1.ContributionService/IssueBill",
            Rpc::RecordPayment => "/lindung.v1.ContributionService/RecordPayment",
            Rpc::ListBills => "/lindung.v1.ContributionService/ListBills",
            Rpc::GetArrears => "/lindung.v1.ContributionService/GetArrears",
            Rpc::RecordBackdate => "/lindung.v1.ContributionService/RecordBackdate",
            Rpc::VerifyCoverage => "/lindung.v1.CoverageService/VerifyCoverage",
            Rpc::VerifyCoverageStream => "/lindung.v1.CoverageService/VerifyCoverageStream",
            Rpc::FileClaim => "/lindung.v1.ClaimService/FileClaim",
            Rpc::FileAccidentNotice => "/lindung.v1.ClaimService/FileAccidentNotice",
            Rpc::AddClaimDocuments => "/lindung.v1.ClaimService/AddClaimDocuments",
            Rpc::AssessClaim => "/lindung.v1.ClaimService/AssessClaim",
            Rpc::DecideClaim => "/lindung.v1.ClaimService/DecideClaim",
            Rpc::PayClaim => "/lindung.v1.ClaimService/PayClaim",
            Rpc::GetClaim => "/lindung.v1.ClaimService/GetClaim",
            Rpc::ListClaims => "/lindung.v1.ClaimService/ListClaims",
            Rpc::EstimateBenefit => "/lindung.v1.ClaimService/EstimateBenefit",
            Rpc::ListSigningKeys => "/lindung.v1.AttestationService/ListSigningKeys",
            Rpc::CheckAttestation => "/lindung.v1.AttestationService/CheckAttestation",
            Rpc::ListAuditRecords => "/lindung.v1.AuditService/ListAuditRecords",
            Rpc::ListWorkerAccess => "/lindung.v1.AuditService/ListWorkerAccess",
            Rpc::SubjectAccessReport => "/lindung.v1.AuditService/SubjectAccessReport",
            Rpc::GetInclusionProof => "/lindung.v1.AuditService/GetInclusionProof",
            Rpc::Subscribe => "/lindung.v1.FeedService/Subscribe",
            Rpc::Reconcile => "/lindung.v1.ReconcileService/Reconcile",
            Rpc::GetMonthlyStatement => "/lindung.v1.ReconcileService/GetMonthlyStatement",
        }
    }
}

/// Where a permission applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The caller's own agency only.
    OwnAgency,
    /// Workers domiciled inside the caller's region.
    OwnArea,
    /// Everything.
    All,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OwnAgency => "own agency",
            Scope::OwnArea => "own area",
            Scope::All => "all",
        }
    }
}

const NO: Option<Scope> = None;
const SELF: Option<Scope> = Some(Scope::OwnAgency);
const AREA: Option<Scope> = Some(Scope::OwnArea);
const ALL: Option<Scope> = Some(Scope::All);

/// The authorization table: for each RPC, the scope of a city, a province and the insurer (None: refused).
/// Cities and provinces write workers domiciled inside their area only; the insurer reads all; governments read
/// their area.
pub const TABLE: &[(Rpc, [Option<Scope>; 3])] = &[
    // RPC                          city  province insurer
    (Rpc::WhoAmI, [SELF, SELF, SELF]),
    (Rpc::UpsertWorker, [AREA, AREA, NO]),
    (Rpc::UpsertWorkers, [AREA, AREA, NO]),
    (Rpc::GetWorker, [AREA, AREA, ALL]),
    (Rpc::ListWorkers, [AREA, AREA, ALL]),
    // A funder reports the deaths of workers it funds (or funded).
    (Rpc::ReportDeath, [SELF, SELF, ALL]),
    (Rpc::CreateSubsidy, [SELF, SELF, NO]),
    (Rpc::GetSubsidy, [SELF, SELF, ALL]),
    (Rpc::ListSubsidies, [SELF, SELF, ALL]),
    (Rpc::GetSubsidyUsage, [SELF, SELF, ALL]),
    (Rpc::SubmitEnrollment, [SELF, SELF, NO]),
    (Rpc::SubmitEnrollments, [SELF, SELF, NO]),
    (Rpc::EndEnrollment, [SELF, SELF, NO]),
    (Rpc::HandOverEnrollment, [SELF, SELF, NO]),
    (Rpc::ConfirmEnrollment, [NO, NO, ALL]),
    (Rpc::RefuseEnrollment, [NO, NO, ALL]),
    (Rpc::DecideEnrollments, [NO, NO, ALL]),
    (Rpc::ListPendingEnrollments, [NO, NO, ALL]),
    (Rpc::StreamPendingEnrollments, [NO, NO, ALL]),
    (Rpc::GetEnrollment, [SELF, SELF, ALL]),
    (Rpc::ListEnrollments, [SELF, SELF, ALL]),
    (Rpc::IssueBill, [NO, NO, ALL]),
    (Rpc::RecordPayment, [SELF, SELF, NO]),
    (Rpc::ListBills, [SELF, SELF, ALL]),
    (Rpc::GetArrears, [SELF, SELF, ALL]),
    (Rpc::RecordBackdate, [NO, NO, ALL]),
    // Anyone may ask whether a worker is covered; only the insurer and the worker's funders learn the details.
    (Rpc::VerifyCoverage, [ALL, ALL, ALL]),
    (Rpc::VerifyCoverageStream, [ALL, ALL, ALL]),
    // The insurer settles claims; a funder gives accident notice for its workers (R3.7) and follows their claims.
    (Rpc::FileClaim, [NO, NO, ALL]),
    (Rpc::FileAccidentNotice, [SELF, SELF, NO]),
    (Rpc::AddClaimDocuments, [NO, NO, ALL]),
    (Rpc::AssessClaim, [NO, NO, ALL]),
    (Rpc::DecideClaim, [NO, NO, ALL]),
    (Rpc::PayClaim, [NO, NO, ALL]),
    (Rpc::GetClaim, [SELF, SELF, ALL]),
    (Rpc::ListClaims, [SELF, SELF, ALL]),
    (Rpc::EstimateBenefit, [SELF, SELF, ALL]),
    // Attestations are issued by VerifyCoverage, to its callers; the keys are public, and whoever holds an
    // attestation may ask whether it still holds (it learns no more than VerifyCoverage would tell it).
    (Rpc::ListSigningKeys, [ALL, ALL, ALL]),
    (Rpc::CheckAttestation, [ALL, ALL, ALL]),
    // Every agency reads its own audit records; a funder, who looked at the workers it funds; a worker's funder or
    // the insurer answers the worker's access request; proofs for what the caller may list (the insurer: all).
    (Rpc::ListAuditRecords, [SELF, SELF, SELF]),
    (Rpc::ListWorkerAccess, [SELF, SELF, NO]),
    (Rpc::SubjectAccessReport, [SELF, SELF, ALL]),
    (Rpc::GetInclusionProof, [SELF, SELF, ALL]),
    // Every agency follows the feed; a government receives the events about its own subsidies and workers.
    (Rpc::Subscribe, [SELF, SELF, ALL]),
    // A funder reconciles its own subsidies' lists and reads their statements (R6.2); the insurer any subsidy's.
    (Rpc::Reconcile, [SELF, SELF, ALL]),
    (Rpc::GetMonthlyStatement, [SELF, SELF, ALL]),
];

/// The scope `kind` has on `rpc`, or None when it may not call it.
pub fn scope(kind: AgencyKind, rpc: Rpc) -> Option<Scope> {
    let column = match kind {
        AgencyKind::City => 0,
        AgencyKind::Province => 1,
        AgencyKind::Insurer => 2,
    };
    TABLE.iter().find(|(r, _)| *r == rpc).and_then(|(_, scopes)| scopes[column])
}

/// The table as a Markdown table, as it stands in docs/ARCHITECTURE.md.
pub fn table_markdown() -> String {
    let cell = |s: Option<Scope>| s.map_or("—", Scope::as_str);
    let mut out = String::from("| RPC | city | province | insurer |\n|---|---|---|---|\n");
    for (rpc, [city, province, insurer]) in TABLE {
        out.push_str(&format!("| `{}` | {} | {} | {} |\n", rpc.method(), cell(*city), cell(*province), cell(*insurer)));
    }
    out
}

/// An authenticated, authorized caller of one RPC.
#[derive(Debug, Clone)]
pub struct Caller {
    pub agency: Agency,
    pub rpc: Rpc,
    pub scope: Scope,
    /// The `x-request-id` of the call, set by the client or generated by lindung.
    pub request_id: String,
    /// The client's `x-correlation-id`, kept in the audit trail.
    pub correlation_id: Option<String>,
    /// The call's place among its agency's calls in flight, held for as long as the call (any clone of it) runs.
    pub admission: crate::limits::Admission,
}

impl Caller {
    /// Whether the caller may see or write data located in `area`.
    pub fn covers(&self, area: &RegionCode) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::OwnArea => self.agency.governs(area),
            Scope::OwnAgency => false,
        }
    }

    /// The area the caller's view is limited to; None for an unlimited view.
    pub fn view(&self) -> Option<&RegionCode> {
        match self.scope {
            Scope::All => None,
            Scope::OwnArea | Scope::OwnAgency => self.agency.region.as_ref(),
        }
    }

    pub fn agency_id(&self) -> Uuid {
        self.agency.id
    }

    /// The caller as the audit log records it.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            agency_id: self.agency.id,
            method: self.rpc.method(),
            request_id: &self.request_id,
            correlation_id: self.correlation_id.as_deref(),
        }
    }
}

/// Authorizes `agency` for `rpc`.
pub fn authorize(agency: Agency, rpc: Rpc, ids: CallIds) -> Result<Caller, Error> {
    let CallIds { request_id, correlation_id } = ids;
    match scope(agency.kind, rpc) {
        Some(scope) => Ok(Caller { agency, rpc, scope, request_id, correlation_id, admission: Default::default() }),
        None => Err(Error::PermissionDenied(crate::msg!(
            RPC_NOT_ALLOWED,
            kind = agency.kind.as_str(),
            method = rpc.method()
        ))),
    }
}

/// The ids a call is known by: `x-request-id` (the client's, or the one lindung's edge layer generated) and the
/// client's own `x-correlation-id`, which may span several calls of one business transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIds {
    pub request_id: String,
    pub correlation_id: Option<String>,
}

/// The longest request or correlation id lindung keeps (the audit log's constraints say the same).
pub const MAX_CALL_ID_LEN: usize = 128;

impl CallIds {
    /// Reads both ids from the call's metadata: each 1 to [`MAX_CALL_ID_LEN`] visible ASCII characters, as they
    /// go into the audit trail and the logs. A request id is generated when there is none.
    pub fn from_metadata(metadata: &tonic::metadata::MetadataMap) -> Result<CallIds, Error> {
        let read = |name: &'static str| -> Result<Option<String>, ()> {
            let Some(value) = metadata.get(name) else { return Ok(None) };
            match value.to_str() {
                Ok(text) if is_call_id(text) => Ok(Some(text.to_owned())),
                _ => Err(()),
            }
        };
        let request_id = read("x-request-id").map_err(|()| {
            Error::invalid(
                "x-request-id",
                crate::msg!(REQUEST_ID_HEADER, header = "x-request-id", max = MAX_CALL_ID_LEN),
            )
        })?;
        let correlation_id = read("x-correlation-id").map_err(|()| {
            let message = crate::msg!(CORRELATION_ID_FORMAT, header = "x-correlation-id", max = MAX_CALL_ID_LEN);
            Error::invalid("x-correlation-id", message)
        })?;
        Ok(CallIds { request_id: request_id.unwrap_or_else(|| Uuid::new_v4().to_string()), correlation_id })
    }
}

fn is_call_id(text: &str) -> bool {
    (1..=MAX_CALL_ID_LEN).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic())
}

/// The API key from `authorization: Bearer <key>`.
pub fn bearer_key(metadata: &tonic::metadata::MetadataMap) -> Result<&str, Error> {
    let value = metadata.get("authorization").ok_or(Error::Unauthenticated(crate::msg!(API_KEY_MISSING)))?;
    let value = value.to_str().map_err(|_| Error::Unauthenticated(crate::msg!(API_KEY_NOT_TEXT)))?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(Error::Unauthenticated(crate::msg!(API_KEY_MALFORMED)))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_has_exactly_one_row_in_the_table() {
        let mut seen = std::collections::HashSet::new();
        for (rpc, _) in TABLE {
            assert!(seen.insert(rpc.method()), "{rpc:?} twice");
        }
        // Every method of every lindung service has a row: the generated descriptors are the list of RPCs.
        let descriptors =
            <prost_types::FileDescriptorSet as prost::Message>::decode(crate::proto::FILE_DESCRIPTOR_SET).unwrap();
        for file in descriptors.file.iter().filter(|f| f.package() == "lindung.v1") {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/lindung.v1.{}/{}", service.name(), method.name());
                    assert!(seen.contains(path.as_str()), "{path} has no row in the authorization table");
                }
            }
        }
    }

    #[test]
    fn the_insurer_reads_all_workers_but_writes_none() {
        assert_eq!(scope(AgencyKind::Insurer, Rpc::GetWorker), Some(Scope::All));
        assert_eq!(scope(AgencyKind::Insurer, Rpc::UpsertWorker), None);
        assert_eq!(scope(AgencyKind::City, Rpc::UpsertWorkers), Some(Scope::OwnArea));
    }

    #[test]
    fn the_documented_table_is_the_table_in_code() {
        let doc = include_str!("../docs/ARCHITECTURE.md");
        assert!(
            doc.contains(&table_markdown()),
            "docs/ARCHITECTURE.md must contain the authorization table exactly as auth::table_markdown() renders it:\n{}",
            table_markdown()
        );
    }

    #[test]
    fn bearer_keys_are_read_from_the_authorization_metadata() {
        let check = |value: Option<&str>, expected: Result<&str, &str>| {
            let mut metadata = tonic::metadata::MetadataMap::new();
            if let Some(v) = value {
                metadata.insert("authorization", v.parse().unwrap());
            }
            let got = bearer_key(&metadata).map_err(|e| match e {
                Error::Unauthenticated(message) => message.reason(),
                other => panic!("unexpected {other:?}"),
            });
            assert_eq!(got, expected, "{value:?}");
        };
        check(Some("Bearer lk_abc"), Ok("lk_abc"));
        check(Some("bearer lk_abc"), Ok("lk_abc"));
        check(Some("Basic xyz"), Err("API_KEY_MALFORMED"));
        check(Some("Bearer "), Err("API_KEY_MALFORMED"));
        check(None, Err("API_KEY_MISSING"));
    }
}
