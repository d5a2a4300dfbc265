//! Requests from arbitrary bytes: the first byte picks a request message, the next two the day the server thinks it
//! is, and the rest is decoded as that message (prost) and read into domain values by lindung's own conversion, as
//! the gRPC edge does. Decoding fails or the conversion answers a value or an error, never a panic; every error is
//! worded into the `google.rpc.Status` a client would get.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use lindung::{
    agency::{Agency, AgencyKind},
    area::RegionCode,
    audit, claim, contribution, coverage, enrollment,
    error::{Error, to_rpc_status},
    proto::v1 as pb,
    reconcile, subsidy, worker,
};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let [which, d0, d1, message @ ..] = data else { return };
    let today =
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(u64::from(u16::from_le_bytes([*d0, *d1])));
    let _ = read(*which, message, today);
});

/// The message `which` picks, read as its RPC reads it; None when the bytes are not that message.
fn read(which: u8, bytes: &[u8], today: NaiveDate) -> Option<()> {
    match which % 23 {
        // The bulk (streamed) requests, one message of the stream each.
        0 => {
            let row = pb::UpsertWorkersRequest::decode(bytes).ok()?;
            workers(row.worker.unwrap_or_default(), today);
        }
        1 => {
            let row = pb::SubmitEnrollmentsRequest::decode(bytes).ok()?;
            let received = enrollment::convert::received(&row.submission.unwrap_or_default(), Some("submission"));
            answer(received.submission);
        }
        2 => answer(enrollment::convert::decision(pb::DecideEnrollmentsRequest::decode(bytes).ok()?)),
        3 => answer(coverage::convert::question(&pb::VerifyCoverageRequest::decode(bytes).ok()?)),
        4 => {
            let message = pb::ReconcileRequest::decode(bytes).ok()?;
            answer(reconcile::convert::start(Some(message.clone())));
            match reconcile::convert::row(1, message) {
                Ok(row) => {
                    let parsed = reconcile::parse_row(&row);
                    assert!(parsed.nik.is_none() || parsed.violations.is_empty());
                    answer(if parsed.violations.is_empty() {
                        Ok(())
                    } else {
                        Err(Error::InvalidArgument(parsed.violations))
                    });
                }
                Err(error) => answer::<()>(Err(error)),
            }
        }
        // The unary requests that carry more than an id.
        5 => workers(pb::UpsertWorkerRequest::decode(bytes).ok()?.worker.unwrap_or_default(), today),
        6 => answer(enrollment::convert::received(&pb::SubmitEnrollmentRequest::decode(bytes).ok()?, None).submission),
        7 => answer(enrollment::convert::hand_over(&pb::HandOverEnrollmentRequest::decode(bytes).ok()?)),
        8 => answer(enrollment::convert::end(&pb::EndEnrollmentRequest::decode(bytes).ok()?)),
        9 => answer(enrollment::convert::filter(&pb::ListEnrollmentsRequest::decode(bytes).ok()?)),
        10 => answer(worker::convert::death_report(&pb::ReportDeathRequest::decode(bytes).ok()?)),
        11 => answer(worker::convert::list_filter(&pb::ListWorkersRequest::decode(bytes).ok()?)),
        12 => {
            let request = pb::CreateSubsidyRequest::decode(bytes).ok()?;
            let input = subsidy::convert::from_proto(request.subsidy.unwrap_or_default());
            for funder in funders() {
                let parsed = subsidy::Subsidy::parse(input.clone(), uuid::Uuid::nil(), &funder);
                answer(parsed.map_err(Error::InvalidArgument));
            }
        }
        13 => answer(claim::convert::filing(&pb::FileClaimRequest::decode(bytes).ok()?)),
        14 => answer(claim::convert::accident_notice(&pb::FileAccidentNoticeRequest::decode(bytes).ok()?)),
        15 => answer(claim::convert::documents(&pb::AddClaimDocumentsRequest::decode(bytes).ok()?.documents)),
        16 => answer(claim::convert::decision(&pb::DecideClaimRequest::decode(bytes).ok()?)),
        17 => answer(claim::convert::payment(&pb::PayClaimRequest::decode(bytes).ok()?)),
        18 => answer(claim::convert::list_query(&pb::ListClaimsRequest::decode(bytes).ok()?)),
        19 => answer(claim::convert::estimate(&pb::EstimateBenefitRequest::decode(bytes).ok()?)),
        20 => answer(contribution::grpc::parse_payment(&pb::RecordPaymentRequest::decode(bytes).ok()?)),
        21 => {
            let request = pb::ListAuditRecordsRequest::decode(bytes).ok()?;
            answer(audit::convert::listing(request.time_range.as_ref(), request.page.as_ref()));
            answer(audit::convert::record_key(&pb::GetInclusionProofRequest::decode(bytes).ok()?));
        }
        _ => answer(reconcile::convert::statement_request(&pb::GetMonthlyStatementRequest::decode(bytes).ok()?)),
    }
    Some(())
}

/// A worker as UpsertWorker(s) reads it: every field checked, all violations at once.
fn workers(wire: pb::Worker, today: NaiveDate) {
    let input = worker::convert::from_proto(wire);
    let parsed = worker::Worker::parse(input.clone(), today);
    if let Ok(parsed) = &parsed {
        assert_eq!(parsed.nik.as_str(), input.nik);
        assert!(parsed.birth_date <= today);
    }
    answer(parsed.map_err(Error::InvalidArgument));
}

/// A city, a province and the insurer, each proposing a subsidy.
fn funders() -> [Agency; 3] {
    let agency = |kind, region: Option<&str>| Agency {
        id: uuid::Uuid::nil(),
        name: "fuzz".to_owned(),
        kind,
        region: region.map(|r| RegionCode::parse(r).unwrap()),
    };
    [
        agency(AgencyKind::City, Some("32.71")),
        agency(AgencyKind::Province, Some("32")),
        agency(AgencyKind::Insurer, None),
    ]
}

/// An error is worded as the client gets it, in a streamed response's `google.rpc.Status`.
fn answer<T>(result: Result<T, Error>) {
    if let Err(error) = result {
        let status = to_rpc_status(error);
        assert_ne!(status.code, 0, "an error is never OK");
    }
}
