//! The coverage use cases: answering coverage questions, the one judgement of whether a worker was covered on a
//! date (which claims share), and a subsidy's ledger and arrears (which contributions answer).

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Answer, Arrears, Covered, Details, Funding, Ledger, NotCovered, Programme, Question, covered_until, store, verify,
};
use crate::{agency::AgencyKind, auth::Caller, clock::today, error::Error, month::Month, nik::Nik, state::AppState};

/// Answers a batch of coverage questions with a few statements whatever its size: the workers, their fundings and
/// their subsidies' ledgers are read once per batch, and one audit record names every person looked up. A row that
/// is not a valid question keeps its error.
#[tracing::instrument(skip_all)]
pub async fn answer(
    state: &AppState,
    caller: &Caller,
    questions: Vec<Result<Question, Error>>,
) -> Result<Vec<Result<Answer, Error>>, Error> {
    let niks: Vec<String> =
        questions.iter().flatten().filter_map(|q| q.nik.as_ref()).map(|n| n.as_str().to_owned()).collect();
    let numbers: Vec<String> = questions
        .iter()
        .flatten()
        .filter_map(|q| q.participant_number.as_ref())
        .map(|n| n.as_str().to_owned())
        .collect();
    let mut read = state.read(caller).await?;
    let workers = store::workers(&mut *read, &niks, &numbers).await?;
    let by_nik: HashMap<&Nik, &store::WorkerRow> = workers.iter().map(|w| (&w.nik, w)).collect();
    let by_number: HashMap<&str, &store::WorkerRow> =
        workers.iter().filter_map(|w| Some((w.participant_number.as_deref()?, w))).collect();
    let all_niks: Vec<String> = workers.iter().map(|w| w.nik.as_str().to_owned()).collect();
    let fundings: HashMap<Nik, Vec<Funding>> = store::fundings(&mut *read, &all_niks)
        .await?
        .into_iter()
        .map(|(nik, rows)| (nik, rows.iter().map(funding_of).collect()))
        .collect();
    let mut subsidies: Vec<Uuid> = fundings.values().flatten().map(|f| f.subsidy_id).collect();
    subsidies.sort_unstable();
    subsidies.dedup();
    let ledgers = ledgers(&mut read, &subsidies, today()).await?;
    // First the verdicts; then the benefit policies of the covering subsidies whose details are shown.
    let mut judged = Vec::with_capacity(questions.len());
    for question in questions {
        let question = match question {
            Ok(question) => question,
            Err(error) => {
                judged.push(Err(error));
                continue;
            }
        };
        let worker = match (&question.nik, &question.participant_number) {
            (Some(nik), _) => by_nik.get(nik),
            (None, Some(number)) => by_number.get(number.as_str()),
            (None, None) => None,
        };
        let Some(worker) = worker else {
            let unknown = Judged { worker: None, covered_until: None };
            judged.push(Ok((question.programme, Err(NotCovered::NotEnrolled), false, unknown)));
            continue;
        };
        let none = Vec::new();
        let fundings = fundings.get(&worker.nik).unwrap_or(&none);
        let verdict = verify(fundings, &|id| ledgers.get(&id).cloned(), worker.date_of_death, question.date);
        let entitled =
            caller.agency.kind == AgencyKind::Insurer || fundings.iter().any(|f| f.funder_id == caller.agency_id());
        read.look_up(&worker.nik);
        let covered_until =
            verdict.as_ref().ok().map(|c| covered_until(c, fundings, worker.date_of_death, question.date));
        let known = Judged { worker: Some(worker.nik.clone()), covered_until };
        judged.push(Ok((question.programme, verdict, entitled, known)));
    }
    let mut shown: Vec<Uuid> = judged
        .iter()
        .flatten()
        .filter_map(|(_, verdict, entitled, _)| verdict.as_ref().ok().filter(|_| *entitled).map(|c| c.subsidy_id))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    let policies = if shown.is_empty() {
        HashMap::new()
    } else {
        crate::subsidy::service::benefit_policies(&mut read, &shown).await?
    };
    let mut answers = Vec::with_capacity(judged.len());
    for judgement in judged {
        let (programme, verdict, entitled, judged) = match judgement {
            Ok(judgement) => judgement,
            Err(error) => {
                answers.push(Err(error));
                continue;
            }
        };
        let details = match &verdict {
            Ok(covered) if entitled => {
                let policy = policies.get(&covered.subsidy_id).ok_or_else(|| {
                    Error::internal(anyhow::anyhow!("no benefit policy for subsidy {}", covered.subsidy_id))
                })?;
                Some(Details {
                    death_benefit: (programme == Programme::Jkm)
                        .then(|| policy.death_benefit(covered.contribution_months)),
                    scholarship_eligible: policy.scholarship_eligible(covered.contribution_months),
                })
            }
            _ => None,
        };
        answers.push(Ok(Answer { verdict, details, worker: judged.worker, covered_until: judged.covered_until }));
    }
    read.finish().await?;
    Ok(answers)
}

/// What an answer keeps of the worker it judged.
struct Judged {
    worker: Option<Nik>,
    covered_until: Option<NaiveDate>,
}

/// The verdict on a worker on `date`, with their fundings: the one coverage judgement, shared with claims.
#[tracing::instrument(skip_all)]
pub async fn judge(
    conn: &mut PgConnection,
    worker: &store::WorkerRow,
    date: NaiveDate,
) -> Result<(Result<Covered, NotCovered>, Vec<Funding>), Error> {
    let rows = store::fundings(&mut *conn, &[worker.nik.as_str().to_owned()]).await?;
    let fundings: Vec<Funding> = rows.values().flatten().map(funding_of).collect();
    let subsidies: Vec<Uuid> = fundings.iter().map(|f| f.subsidy_id).collect();
    let ledgers = ledgers(conn, &subsidies, today()).await?;
    let verdict = verify(&fundings, &|id| ledgers.get(&id).cloned(), worker.date_of_death, date);
    Ok((verdict, fundings))
}

/// The replayed ledger of `subsidy` as of today.
#[tracing::instrument(skip_all)]
pub async fn ledger(conn: &mut PgConnection, subsidy: Uuid) -> Result<Ledger, Error> {
    let mut ledgers = ledgers(conn, &[subsidy], today()).await?;
    Ok(ledgers.remove(&subsidy).unwrap_or_default())
}

/// The arrears of `subsidy` today; with `worker`, limited to the months the worker was billed for in it.
#[tracing::instrument(skip_all)]
pub async fn arrears(conn: &mut PgConnection, subsidy: Uuid, worker: Option<&Nik>) -> Result<Arrears, Error> {
    let ledger = ledger(&mut *conn, subsidy).await?;
    let months = match worker {
        None => None,
        Some(nik) => {
            let fundings = store::fundings(&mut *conn, &[nik.as_str().to_owned()]).await?;
            let months: Vec<Month> = fundings
                .values()
                .flatten()
                .filter(|f| f.subsidy_id == subsidy)
                .flat_map(|f| f.billed_months.iter().copied())
                .collect();
            Some(months)
        }
    };
    Ok(ledger.arrears(today(), months.as_deref()))
}

/// Records the insurer's correction that `month` of `subsidy` did not lapse, in the caller's unit of work; answers
/// the arrears after it.
#[tracing::instrument(skip_all)]
pub async fn record_backdate(conn: &mut PgConnection, subsidy: Uuid, month: Month, by: Uuid) -> Result<Arrears, Error> {
    store::record_backdate(&mut *conn, subsidy, month, by).await?;
    Ok(ledger(conn, subsidy).await?.arrears(today(), None))
}

/// A funding row as the coverage rules know it.
pub fn funding_of(row: &store::FundingRow) -> Funding {
    Funding {
        subsidy_id: row.subsidy_id,
        funder_kind: row.funder_kind,
        funder_id: row.funder_id,
        status: row.status,
        first_month: row.first_month,
        end_month: row.end_month,
        protection_start: row.protection_start,
        billed_months: row.billed_months.clone(),
    }
}

/// The ledgers of `subsidies` as of `today`: their bills, payments and backdates read at once, each replayed by the
/// pure [`super::ledger`].
#[tracing::instrument(skip_all)]
pub async fn ledgers(
    conn: &mut sqlx::PgConnection,
    subsidies: &[Uuid],
    today: NaiveDate,
) -> Result<HashMap<Uuid, super::Ledger>, Error> {
    let inputs = store::ledger_inputs(conn, subsidies).await?;
    Ok(inputs
        .into_iter()
        .map(|(id, input)| (id, super::ledger(&input.bills, &input.payments, &input.backdated, today)))
        .collect())
}
