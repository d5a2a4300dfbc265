//! `lindung workers report-death` and `lindung claims …`: deaths and JKM death claims over
//! `WorkerService.ReportDeath` and `ClaimService`, from filing to payment. Every request is checked first with the
//! parsers the server applies (`claim::convert`, `worker::convert`), so a malformed one is refused before it is
//! sent, in the server's words. A report of a death already recorded changes nothing, a filing is keyed by its
//! request id (by default derived from the NIK and the date of death) and a payment by its reference: sending any
//! command twice is safe.

use std::time::Duration;

use chrono::DateTime;
use sha2::Digest;

use super::{Authed, checked, json, masked, refused, report, rupiah, word};
use crate::{
    claim::convert::{decision, filing, list_query, payment},
    config::{
        ClaimFollowArgs, ClaimIdArgs, ClaimShowArgs, ClaimStatusArg, ClaimsCommand, DocumentArg, FileClaimArgs,
        ListClaimsArgs, PayClaimArgs, RejectClaimArgs, RelationshipArg, ReportDeathArgs, ServerArgs,
    },
    proto::v1::{self as pb, claim_service_client::ClaimServiceClient, worker_service_client::WorkerServiceClient},
    validate::parse_id,
    worker::convert::death_report,
};

pub async fn report_death(args: ReportDeathArgs) -> anyhow::Result<()> {
    let request = pb::ReportDeathRequest {
        worker_nik: args.nik.clone(),
        date_of_death: args.date.clone(),
        certificate_number: args.certificate.clone(),
    };
    checked(death_report(&request))?;
    let mut client = WorkerServiceClient::new(super::connect(&args.server).await?);
    let answer = client.report_death(request).await.map_err(refused)?.into_inner();
    let who = masked(&args.nik);
    if answer.recorded_now {
        println!("death of {who} on {} recorded (certificate {})", answer.date_of_death, answer.certificate_number);
    } else {
        println!(
            "death of {who} on {} was recorded already (certificate {}): nothing changed",
            answer.date_of_death, answer.certificate_number
        );
    }
    for id in &answer.changed_enrollment_ids {
        println!("enrollment {id} ends after the month of death");
    }
    for refund in &answer.refunds {
        println!(
            "refund credit {} to subsidy {} for {}",
            rupiah(refund.amount.as_ref()),
            refund.subsidy_id,
            refund.month
        );
    }
    Ok(())
}

pub async fn run(command: ClaimsCommand) -> anyhow::Result<()> {
    match command {
        ClaimsCommand::File(args) => file(args).await,
        ClaimsCommand::Show(args) => show(args).await,
        ClaimsCommand::Follow(args) => follow(args).await,
        ClaimsCommand::List(args) => list(args).await,
        ClaimsCommand::Assess(args) => {
            checked(parse_id(&args.id, "claim_id"))?;
            let request = pb::AssessClaimRequest { claim_id: args.id.clone() };
            let answer = client(&args.server).await?.assess_claim(request).await.map_err(refused)?;
            print!("{}", describe(&answer.into_inner().claim.unwrap_or_default()));
            Ok(())
        }
        ClaimsCommand::Approve(args) => {
            decide(&args, pb::DecideClaimRequest { claim_id: args.id.clone(), approve: true, ..Default::default() })
                .await
        }
        ClaimsCommand::Reject(RejectClaimArgs { claim, reason }) => {
            let request =
                pb::DecideClaimRequest { claim_id: claim.id.clone(), approve: false, rejection_reason: reason };
            decide(&claim, request).await
        }
        ClaimsCommand::Pay(args) => pay(args).await,
    }
}

async fn client(server: &ServerArgs) -> anyhow::Result<ClaimServiceClient<Authed>> {
    Ok(ClaimServiceClient::new(super::connect(server).await?))
}

/// Files the claim; its id goes to standard output (for a script), what it says to standard error.
async fn file(args: FileClaimArgs) -> anyhow::Result<()> {
    let request_id = args.request_id.clone().unwrap_or_else(|| request_id(&args.nik, &args.death_date));
    let request = pb::FileClaimRequest {
        request_id,
        worker_nik: args.nik,
        event: Some(pb::Event {
            kind: pb::ClaimEvent::Death as i32,
            date: args.death_date,
            children: vec![],
            accident_costs: None,
        }),
        heirs: vec![pb::Heir {
            full_name: args.heir_name,
            nik: args.heir_nik.unwrap_or_default(),
            relationship: relationship(args.heir_relationship) as i32,
            bank_name: args.bank,
            bank_account: args.account,
        }],
        documents: args.documents.iter().map(|d| document(*d) as i32).collect(),
        death_certificate_number: args.certificate.unwrap_or_default(),
        ..Default::default()
    };
    checked(filing(&request))?;
    let answer = client(&args.server).await?.file_claim(request).await.map_err(refused)?.into_inner();
    let claim = answer.claim.unwrap_or_default();
    println!("{}", claim.id);
    eprint!("{}", describe(&claim));
    Ok(())
}

/// The request id of a death claim when none is given: the same worker and date of death give the same id, so a
/// resend is answered with the claim the first call filed. A hash, since a request id is kept and logged where a
/// NIK never is.
fn request_id(nik: &str, death_date: &str) -> String {
    let mut hash = sha2::Sha256::new();
    for part in ["jkm", nik, death_date] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!("jkm-{}", hex::encode(&hash.finalize()[..12]))
}

async fn show(args: ClaimShowArgs) -> anyhow::Result<()> {
    let ClaimShowArgs { claim: ClaimIdArgs { server, id }, json: as_json } = args;
    checked(parse_id(&id, "claim_id"))?;
    let answer =
        client(&server).await?.get_claim(pb::GetClaimRequest { claim_id: id }).await.map_err(refused)?.into_inner();
    if as_json {
        println!("{}", json("lindung.v1.GetClaimResponse", &answer)?);
    } else {
        print!("{}", describe(&answer.claim.unwrap_or_default()));
    }
    Ok(())
}

/// Polls the claim until it is paid or rejected, printing a line at each change of status. A server out of reach
/// for a while is waited for, as a clerk would wait.
async fn follow(args: ClaimFollowArgs) -> anyhow::Result<()> {
    let ClaimFollowArgs { claim: ClaimIdArgs { server, id }, interval } = args;
    checked(parse_id(&id, "claim_id"))?;
    let mut client = client(&server).await?;
    let mut last = None;
    loop {
        match client.get_claim(pb::GetClaimRequest { claim_id: id.clone() }).await {
            Ok(answer) => {
                let claim = answer.into_inner().claim.unwrap_or_default();
                let status = claim.status();
                if last != Some(status) {
                    println!("{}  {}", changed_at(&claim), status_line(&claim));
                    last = Some(status);
                }
                if matches!(status, pb::ClaimStatus::Paid | pb::ClaimStatus::Rejected) {
                    return Ok(());
                }
            }
            Err(status) if matches!(status.code(), tonic::Code::Unavailable | tonic::Code::DeadlineExceeded) => {
                eprintln!("the server did not answer ({}); asking again in {}", status.message(), seconds(interval));
            }
            Err(status) => return Err(refused(status)),
        }
        tokio::time::sleep(interval).await;
    }
}

fn seconds(interval: Duration) -> String {
    format!("{:.1} s", interval.as_secs_f64())
}

/// When the claim last changed, in WIB.
fn changed_at(claim: &pb::Claim) -> String {
    claim
        .update_time
        .as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|at| at.with_timezone(&crate::clock::WIB).format("%Y-%m-%d %H:%M:%S WIB").to_string())
        .unwrap_or_default()
}

async fn list(args: ListClaimsArgs) -> anyhow::Result<()> {
    let mut request = pb::ListClaimsRequest {
        status: args.status.map_or(pb::ClaimStatus::Unspecified, status) as i32,
        overdue_only: args.overdue,
        worker_nik: args.nik.clone().unwrap_or_default(),
        page: Some(pb::PageRequest { page_size: 1000, page_token: String::new() }),
    };
    checked(list_query(&request))?;
    let mut client = client(&args.server).await?;
    let mut claims = Vec::new();
    loop {
        let page = client.list_claims(request.clone()).await.map_err(refused)?.into_inner();
        claims.extend(page.claims);
        if page.next_page_token.is_empty() {
            break;
        }
        request.page = Some(pb::PageRequest { page_size: 1000, page_token: page.next_page_token });
    }
    if args.json {
        let all = pb::ListClaimsResponse { claims, next_page_token: String::new() };
        println!("{}", json("lindung.v1.ListClaimsResponse", &all)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = claims
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                masked(&c.worker_nik),
                event(c),
                c.event_date.clone(),
                word(c.status().as_str_name(), "CLAIM_STATUS_"),
                c.breakdown.as_ref().map(|b| rupiah(b.total.as_ref())).unwrap_or_default(),
                if c.overdue { "overdue".into() } else { String::new() },
            ]
        })
        .collect();
    let header = ["claim", "worker", "event", "date", "status", "benefit", ""];
    print!("{}", report::table(&header, &rows, &[5]));
    eprintln!("{} claims", claims.len());
    Ok(())
}

async fn decide(args: &ClaimIdArgs, request: pb::DecideClaimRequest) -> anyhow::Result<()> {
    checked(decision(&request))?;
    let answer = client(&args.server).await?.decide_claim(request).await.map_err(refused)?.into_inner();
    print!("{}", describe(&answer.claim.unwrap_or_default()));
    Ok(())
}

async fn pay(args: PayClaimArgs) -> anyhow::Result<()> {
    let request =
        pb::PayClaimRequest { claim_id: args.claim.id.clone(), reference: args.reference, paid_on: args.paid_on };
    checked(payment(&request))?;
    let answer = client(&args.claim.server).await?.pay_claim(request).await.map_err(refused)?.into_inner();
    print!("{}", describe(&answer.claim.unwrap_or_default()));
    Ok(())
}

/// A claim as a clerk reads it, a line per particular; what the caller may not see is absent from the answer and so
/// from the lines.
fn describe(claim: &pb::Claim) -> String {
    let mut lines = vec![
        ("claim", claim.id.clone()),
        ("worker", masked(&claim.worker_nik)),
        ("event", format!("{} on {}", event(claim), claim.event_date)),
        ("status", status_line(claim)),
        (
            "funder",
            format!("{}, subsidy {}", word(claim.funder_kind().as_str_name(), "AGENCY_KIND_"), claim.subsidy_id),
        ),
    ];
    if let Some(breakdown) = &claim.breakdown {
        let total = rupiah(breakdown.total.as_ref());
        lines.push(("benefit", format!("{total} for {} paid months", breakdown.contribution_months)));
    }
    let documents: Vec<String> = claim.documents.iter().map(|d| document_word(*d)).collect();
    let missing: Vec<String> = claim.missing_documents.iter().map(|d| document_word(*d)).collect();
    let documents = match (documents.len(), missing.is_empty()) {
        (n, true) => format!("{n} present, none missing"),
        (n, false) => format!("{n} present; missing: {}", missing.join(", ")),
    };
    lines.push(("documents", documents));
    for heir in &claim.heirs {
        let relationship = word(heir.relationship().as_str_name(), "RELATIONSHIP_");
        let account = format!("{} {}", heir.bank_name, masked(&heir.bank_account));
        lines.push(("heir", format!("{} ({relationship}), {account}", heir.full_name)));
    }
    if claim.overdue {
        lines.push(("overdue", "complete and not paid within 3 working days".into()));
    }
    let mut out: String = lines.iter().map(|(name, value)| format!("{name:<10} {value}\n")).collect();
    if let Some(breakdown) = claim.breakdown.as_ref().filter(|b| !b.lines.is_empty()) {
        let rows: Vec<Vec<String>> = breakdown
            .lines
            .iter()
            .map(|l| vec![l.rule.clone(), l.item.clone(), rupiah(l.amount.as_ref()), l.explanation.clone()])
            .collect();
        for line in report::table(&["rule", "item", "amount", "why"], &rows, &[2]).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// The status with what belongs to it: the amount and reference once paid, the reason once rejected.
fn status_line(claim: &pb::Claim) -> String {
    let total = || claim.breakdown.as_ref().map(|b| rupiah(b.total.as_ref())).unwrap_or_default();
    match claim.status() {
        pb::ClaimStatus::Paid => {
            format!("paid {} on {}, reference {}", total(), claim.paid_on, claim.payment_reference)
        }
        pb::ClaimStatus::Rejected => format!("rejected: {}", claim.rejection_reason),
        pb::ClaimStatus::Assessed | pb::ClaimStatus::Approved => {
            format!("{} {}", word(claim.status().as_str_name(), "CLAIM_STATUS_"), total())
        }
        other => word(other.as_str_name(), "CLAIM_STATUS_"),
    }
}

fn event(claim: &pb::Claim) -> String {
    match claim.event() {
        pb::ClaimEvent::Death => "death (JKM)".into(),
        pb::ClaimEvent::Accident => "work accident (JKK)".into(),
        pb::ClaimEvent::AccidentDeath => "death from a work accident (JKK)".into(),
        pb::ClaimEvent::Unspecified => String::new(),
    }
}

fn document_word(document: i32) -> String {
    pb::ClaimDocument::try_from(document)
        .map_or_else(|_| document.to_string(), |d| word(d.as_str_name(), "CLAIM_DOCUMENT_"))
}

fn relationship(arg: RelationshipArg) -> pb::Relationship {
    match arg {
        RelationshipArg::Spouse => pb::Relationship::Spouse,
        RelationshipArg::Child => pb::Relationship::Child,
        RelationshipArg::Parent => pb::Relationship::Parent,
        RelationshipArg::Grandparent => pb::Relationship::Grandparent,
        RelationshipArg::Grandchild => pb::Relationship::Grandchild,
        RelationshipArg::Sibling => pb::Relationship::Sibling,
        RelationshipArg::ParentInLaw => pb::Relationship::ParentInLaw,
        RelationshipArg::WillBeneficiary => pb::Relationship::WillBeneficiary,
    }
}

fn document(arg: DocumentArg) -> pb::ClaimDocument {
    match arg {
        DocumentArg::ParticipantCard => pb::ClaimDocument::ParticipantCard,
        DocumentArg::ParticipantIdCard => pb::ClaimDocument::ParticipantIdCard,
        DocumentArg::HeirIdCard => pb::ClaimDocument::HeirIdCard,
        DocumentArg::DeathCertificate => pb::ClaimDocument::DeathCertificate,
        DocumentArg::FamilyCard => pb::ClaimDocument::FamilyCard,
        DocumentArg::HeirCertificate => pb::ClaimDocument::HeirCertificate,
        DocumentArg::MarriageBook => pb::ClaimDocument::MarriageBook,
        DocumentArg::HeirBankAccount => pb::ClaimDocument::HeirBankAccount,
    }
}

fn status(arg: ClaimStatusArg) -> pb::ClaimStatus {
    match arg {
        ClaimStatusArg::Notice => pb::ClaimStatus::Notice,
        ClaimStatusArg::Filed => pb::ClaimStatus::Filed,
        ClaimStatusArg::Assessed => pb::ClaimStatus::Assessed,
        ClaimStatusArg::Approved => pb::ClaimStatus::Approved,
        ClaimStatusArg::Rejected => pb::ClaimStatus::Rejected,
        ClaimStatusArg::Paid => pb::ClaimStatus::Paid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_request_id_is_the_same_for_the_same_death_and_holds_no_nik() {
        let nik = "3271014505900001";
        let id = request_id(nik, "2025-10-20");
        assert_eq!(id, request_id(nik, "2025-10-20"));
        assert_ne!(id, request_id(nik, "2025-10-21"));
        assert!(!id.contains(nik) && id.starts_with("jkm-") && id.len() == 28, "{id}");
    }

    #[test]
    fn a_paid_claim_reads_with_its_amount_rule_and_reference() {
        let r = |a: &str| Some(pb::Rupiah { amount: a.into() });
        let claim = pb::Claim {
            id: "c1".into(),
            worker_nik: "3271014505900001".into(),
            status: pb::ClaimStatus::Paid as i32,
            event: pb::ClaimEvent::Death as i32,
            event_date: "2025-10-20".into(),
            funder_kind: pb::AgencyKind::City as i32,
            subsidy_id: "s1".into(),
            breakdown: Some(pb::Breakdown {
                lines: vec![pb::BenefitLine {
                    rule: "R2.2".into(),
                    item: "DEATH_BENEFIT".into(),
                    amount: r("10000000"),
                    explanation: "under 3 paid months".into(),
                }],
                total: r("10000000"),
                contribution_months: 2,
                scholarships: vec![],
            }),
            documents: vec![1, 2],
            missing_documents: vec![4],
            payment_reference: "PAY-1".into(),
            paid_on: "2026-01-05".into(),
            ..Default::default()
        };
        assert_eq!(
            describe(&claim),
            "claim      c1\n\
             worker     ************0001\n\
             event      death (JKM) on 2025-10-20\n\
             status     paid Rp10,000,000 on 2026-01-05, reference PAY-1\n\
             funder     city, subsidy s1\n\
             benefit    Rp10,000,000 for 2 paid months\n\
             documents  2 present; missing: death certificate\n\
             \x20 rule  item                 amount  why\n\
             \x20 R2.2  DEATH_BENEFIT  Rp10,000,000  under 3 paid months\n"
        );
    }
}
