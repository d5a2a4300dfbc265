//! The enrollment use cases over domain values: funders submit, end and hand over enrollments; the insurer decides
//! them; everyone lists what they may see. Each change is one unit of work ([`AppState::write`]), each audited
//! read one [`AppState::read`]; the rules themselves are in the module's `mod.rs`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Conflict, Decision, EndReason, Enrollment, Load, Status, Submission, Taken, WorkerFacts, store};
use crate::{
    area::RegionCode,
    auth::{Caller, Scope},
    clock::today,
    error::{Error, Refusal},
    feed::{Kind, NewEvent},
    month::Month,
    nik::Nik,
    participant::ParticipantNumber,
    state::{AppState, Write},
    subsidy::{self, Subsidy},
};

/// One submission as received: the request id it came with (a batch is cut where an id repeats, valid or not)
/// and its fields, validated.
#[derive(Debug)]
pub struct Received {
    pub request_id: String,
    pub submission: Result<Submission, Error>,
}

/// A hand-over asked for: end `enrollment_id` from `month` on and enroll its worker in `target_subsidy_id` from it.
#[derive(Debug, Clone)]
pub struct HandOver {
    pub request_id: String,
    pub enrollment_id: Uuid,
    pub target_subsidy_id: Uuid,
    pub month: Month,
}

/// What a hand-over made: the enrollment it ended and the one it started.
#[derive(Debug, Clone)]
pub struct HandedOver {
    pub ended: Enrollment,
    pub started: Enrollment,
}

/// Which enrollments a list shows by status: a stored one, or the derived LAPSED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Stored(Status),
    /// Active enrollments of a subsidy whose membership is lapsed today (not stored: derived from the ledgers).
    Lapsed,
}

/// What a list asks for; None means "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub subsidy: Option<Uuid>,
    pub status: Option<Listed>,
    /// Funding this month.
    pub month: Option<Month>,
    /// Workers domiciled in this area.
    pub area: Option<RegionCode>,
}

/// A page asked for: after the (creation time, id) of the last item of the page before, at most `limit` items.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// An enrollment as shown, with the day its subsidy lapsed when it is active and the subsidy lapsed (LAPSED).
#[derive(Debug, Clone)]
pub struct View {
    pub enrollment: Enrollment,
    pub lapsed_on: Option<NaiveDate>,
}

/// One page of a list, and whether there are more after it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub views: Vec<View>,
    pub more: bool,
}

/// Decides a batch of submissions of the caller, one unit of work per run of distinct request ids (a request id
/// sent twice in one batch is decided after the first, so the second gets its answer); answers one result per
/// input, in order. `prefix` is where the submission's fields sit in the request (`submission` in a stream), for
/// the field paths of answers. Only a failure of the store fails the batch.
#[tracing::instrument(skip_all)]
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    received: Vec<Received>,
    prefix: Option<&str>,
) -> Result<Vec<Result<Enrollment, Error>>, Error> {
    let mut answers: Vec<Option<Result<Enrollment, Error>>> = Vec::with_capacity(received.len());
    let mut groups: Vec<Vec<(usize, Result<Submission, Error>)>> = vec![Vec::new()];
    let mut seen = HashSet::new();
    for (i, received) in received.into_iter().enumerate() {
        answers.push(None);
        if !seen.insert(received.request_id.clone()) {
            seen.clear();
            seen.insert(received.request_id);
            groups.push(Vec::new());
        }
        groups.last_mut().expect("there is always a group").push((i, received.submission));
    }
    for group in groups.into_iter().filter(|g| !g.is_empty()) {
        let (indexes, submissions): (Vec<usize>, Vec<_>) = group.into_iter().unzip();
        let mut w = state.write(caller).await?;
        let decided = admit_all(&mut w, caller, submissions, prefix, Ownership::Caller).await?;
        w.commit().await?;
        for (i, answer) in indexes.into_iter().zip(decided) {
            answers[i] = Some(answer);
        }
    }
    Ok(answers.into_iter().map(|a| a.unwrap_or_else(|| Err(vanished()))).collect())
}

/// Ends the caller's enrollment `id` from `end_month` on.
#[tracing::instrument(skip_all)]
pub async fn end(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    end_month: Month,
    reason: EndReason,
) -> Result<Enrollment, Error> {
    let mut w = state.write(caller).await?;
    let row = lock_own(&mut w, caller, id).await?;
    end_locked(&mut w, &row, end_month, reason).await?;
    w.touch(&row.worker_nik);
    let row = store::get(&mut *w, id).await?.ok_or_else(vanished)?;
    w.commit().await?;
    Ok(row)
}

/// Hands the caller's enrollment over to another subsidy (of any funder) from a month on: ends it there and admits
/// its worker to the target by the same rules as a submission, in one unit of work. A refused admission changes
/// nothing. A resend under the same request id answers what the first made.
#[tracing::instrument(skip_all)]
pub async fn hand_over(state: &AppState, caller: &Caller, asked: HandOver) -> Result<HandedOver, Error> {
    let mut w = state.write(caller).await?;
    let row = lock_own(&mut w, caller, asked.enrollment_id).await?;
    if row.was_handed_over() {
        // A resend of a hand-over already made answers what it made; under another request id, the enrollment
        // was handed over already and this is a second, refused hand-over.
        let Some(started) = prior_enrollment(&mut w, caller, &asked.request_id).await? else {
            return Err(Error::Refused(vec![Refusal::already_handed_over()]));
        };
        w.touch(&row.worker_nik);
        w.commit().await?;
        return Ok(HandedOver { ended: row, started });
    }
    end_locked(&mut w, &row, asked.month, EndReason::HandedOver).await?;
    let submission = Submission {
        request_id: asked.request_id,
        subsidy_id: asked.target_subsidy_id,
        nik: row.worker_nik.clone(),
        first_month: asked.month,
    };
    let mut answers = admit_all(&mut w, caller, vec![Ok(submission)], None, Ownership::AnyFunder).await?;
    match answers.pop() {
        Some(Ok(started)) => {
            let ended = store::get(&mut *w, row.id).await?.ok_or_else(vanished)?;
            w.commit().await?;
            Ok(HandedOver { ended, started })
        }
        // Nothing changes: the unit of work is dropped (rolled back) and the refusal answered as it is.
        Some(Err(error)) => Err(error),
        None => Err(vanished()),
    }
}

/// Takes a batch of the insurer's decisions in one unit of work, set-based: the enrollments are locked at once,
/// each decision is judged in order against the state the earlier ones left, and the accepted ones are written with
/// one statement per kind. Answers one result per decision, in order; a refused decision leaves the others standing.
#[tracing::instrument(skip_all)]
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    decisions: Vec<Result<Decision, Error>>,
) -> Result<Vec<Result<Enrollment, Error>>, Error> {
    let mut w = state.write(caller).await?;
    let ids: Vec<Uuid> = decisions.iter().filter_map(|d| d.as_ref().ok()).map(Decision::id).collect();
    let mut rows: HashMap<Uuid, Enrollment> =
        store::lock_many(&mut w, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    // Who holds which participant number: the workers decided on, and the holders of the numbers given.
    let niks: Vec<Nik> = rows.values().map(|r| r.worker_nik.clone()).collect();
    let numbers: Vec<ParticipantNumber> = decisions
        .iter()
        .filter_map(|d| match d {
            Ok(Decision::Confirm { number, .. }) => Some(number.clone()),
            _ => None,
        })
        .collect();
    let mut number_of: HashMap<Nik, Option<ParticipantNumber>> = HashMap::new();
    let mut holder_of: HashMap<ParticipantNumber, Nik> = HashMap::new();
    for (nik, number) in store::participant_numbers(&mut *w, &niks, &numbers).await? {
        if let Some(number) = &number {
            holder_of.insert(number.clone(), nik.clone());
        }
        number_of.insert(nik, number);
    }

    let mut confirms: Vec<store::Confirmation> = Vec::new();
    let mut rejections: Vec<store::Rejection> = Vec::new();
    let mut decided: Vec<Result<Uuid, Error>> = Vec::with_capacity(decisions.len());
    for decision in decisions {
        let decision = match decision {
            Ok(d) => d,
            Err(e) => {
                decided.push(Err(e));
                continue;
            }
        };
        let Some(row) = rows.get_mut(&decision.id()) else {
            decided.push(Err(Error::NotFound(crate::msg!(NO_ENROLLMENT, id = decision.id().to_string()))));
            continue;
        };
        let holder = match &decision {
            Decision::Confirm { number, .. } => holder_of.get(number).cloned(),
            Decision::Refuse { .. } => None,
        };
        let current = number_of.get(&row.worker_nik).cloned().flatten();
        let outcome = match (row.take(&decision, holder.as_ref(), current.as_ref()), &decision) {
            (Ok(Taken::Confirmed), Decision::Confirm { number, start, .. }) => {
                holder_of.insert(number.clone(), row.worker_nik.clone());
                number_of.insert(row.worker_nik.clone(), Some(number.clone()));
                confirms.push(store::Confirmation {
                    id: row.id,
                    nik: row.worker_nik.clone(),
                    number: number.clone(),
                    start: *start,
                });
                Ok(())
            }
            (Ok(Taken::Refused), Decision::Refuse { reason, detail, .. }) => {
                rejections.push(store::Rejection { id: row.id, reason: *reason, detail: detail.clone() });
                Ok(())
            }
            (Ok(_), _) => Ok(()),
            (Err(refusal), _) => Err(Error::Refused(vec![refusal])),
        };
        decided.push(outcome.map(|()| row.id));
    }

    store::confirm_many(&mut w, &confirms).await?;
    store::refuse_many(&mut w, &rejections).await?;
    let subsidy_of = |id: Uuid| rows.get(&id).map(|r| r.subsidy_id);
    w.emit_all(confirms.iter().map(|c| NewEvent::enrollment(Kind::EnrollmentConfirmed, c.id, subsidy_of(c.id))));
    w.emit_all(rejections.iter().map(|r| NewEvent::enrollment(Kind::EnrollmentRefused, r.id, subsidy_of(r.id))));
    w.touch_all(confirms.iter().map(|c| &c.nik));
    w.touch_all(rejections.iter().filter_map(|r| rows.get(&r.id)).map(|r| &r.worker_nik));
    let written: Vec<Uuid> = decided.iter().filter_map(|d| d.as_ref().ok().copied()).collect();
    let fresh: HashMap<Uuid, Enrollment> =
        store::get_many(&mut *w, &written).await?.into_iter().map(|r| (r.id, r)).collect();
    w.commit().await?;
    Ok(decided.into_iter().map(|d| d.and_then(|id| fresh.get(&id).cloned().ok_or_else(vanished))).collect())
}

/// One decision taken alone, for the unary RPCs.
pub async fn decide_one(
    state: &AppState,
    caller: &Caller,
    decision: Result<Decision, Error>,
) -> Result<Enrollment, Error> {
    decide(state, caller, vec![decision]).await?.pop().unwrap_or_else(|| Err(vanished()))
}

/// The enrollment `id`, if the caller may see it.
#[tracing::instrument(skip_all)]
pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> Result<View, Error> {
    let mut read = state.read(caller).await?;
    let row = match store::get(&mut *read, id).await? {
        Some(row) if caller.scope == Scope::All || row.funder_id == caller.agency_id() => row,
        _ => return Err(Error::NotFound(crate::msg!(NO_ENROLLMENT_IN_VIEW, id = id.to_string()))),
    };
    read.touch(&row.worker_nik);
    let active = (row.status == Status::Active).then_some(row.subsidy_id);
    let lapses = lapses(&mut read, active.as_slice()).await?;
    read.finish().await?;
    Ok(view(row, &lapses))
}

/// One page of the enrollments the caller may see.
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, caller: &Caller, filter: &Filter, page: Page) -> Result<Listing, Error> {
    let mut read = state.read(caller).await?;
    let mut stored = store::Filter {
        funder: (caller.scope != Scope::All).then(|| caller.agency_id()),
        subsidy: filter.subsidy,
        status: None,
        month: filter.month,
        area_pattern: filter.area.as_ref().map(RegionCode::village_pattern),
        subsidies_in: None,
        subsidies_not_in: Vec::new(),
    };
    match filter.status {
        // LAPSED is not stored: it is an active enrollment of a subsidy whose ledger is lapsed now.
        Some(listed @ (Listed::Lapsed | Listed::Stored(Status::Active))) => {
            let subsidies = store::subsidies_of(&mut *read, &stored).await?;
            let lapsed: Vec<Uuid> = lapses(&mut read, &subsidies).await?.into_keys().collect();
            if listed == Listed::Lapsed {
                stored.subsidies_in = Some(lapsed);
            } else {
                stored.subsidies_not_in = lapsed;
            }
            stored.status = Some(Status::Active);
        }
        Some(Listed::Stored(status)) => stored.status = Some(status),
        None => {}
    }
    let mut rows = store::list(&mut *read, &stored, page.after, page.limit + 1).await?;
    let more = rows.len() as i64 > page.limit;
    if more {
        rows.truncate(page.limit as usize);
    }
    read.touch_all(rows.iter().map(|r| &r.worker_nik));
    let mut subsidies: Vec<Uuid> = rows.iter().filter(|r| r.status == Status::Active).map(|r| r.subsidy_id).collect();
    subsidies.sort_unstable();
    subsidies.dedup();
    let lapses = lapses(&mut read, &subsidies).await?;
    read.finish().await?;
    Ok(Listing { views: rows.into_iter().map(|row| view(row, &lapses)).collect(), more })
}

/// Up to `limit` pending enrollments of every funder after `after`, for the insurer's stream; each page is audited
/// as it is read.
#[tracing::instrument(skip_all)]
pub async fn pending_page(
    state: &AppState,
    caller: &Caller,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Enrollment>, Error> {
    let filter = store::Filter { status: Some(Status::Pending), ..Default::default() };
    let mut read = state.read(caller).await?;
    let rows = store::list(&mut *read, &filter, after, limit).await?;
    read.touch_all(rows.iter().map(|r| &r.worker_nik));
    read.finish().await?;
    Ok(rows)
}

/// Whose subsidies a submission may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ownership {
    /// The caller's own (submissions).
    Caller,
    /// Any funder's (the receiving side of a hand-over).
    AnyFunder,
}

/// Decides submissions with distinct request ids inside the caller's unit of work: resends get their first answer,
/// the others [`super::admit`] under the subsidies' locks (with what the store says of double funding, quota and
/// budget), then one insert; each answer is recorded for resends.
async fn admit_all(
    w: &mut Write,
    caller: &Caller,
    submissions: Vec<Result<Submission, Error>>,
    prefix: Option<&str>,
    ownership: Ownership,
) -> Result<Vec<Result<Enrollment, Error>>, Error> {
    let funder = caller.agency_id();
    let field = |name: &str| prefix.map_or(name.to_owned(), |p| format!("{p}.{name}"));
    let mut answers: Vec<Option<Result<Enrollment, Error>>> = Vec::with_capacity(submissions.len());
    let mut parsed = Vec::new();
    for (i, submission) in submissions.into_iter().enumerate() {
        match submission {
            Ok(s) => {
                answers.push(None);
                parsed.push((i, s));
            }
            Err(error) => answers.push(Some(Err(error))),
        }
    }

    // Resends: the original answer, whatever changed since.
    let request_ids: Vec<String> = parsed.iter().map(|(_, s)| s.request_id.clone()).collect();
    crate::idempotency::lock(w, funder, &request_ids).await?;
    let prior: HashMap<String, store::PriorAnswer> = store::prior_answers(&mut **w, funder, &request_ids)
        .await?
        .into_iter()
        .map(|p| (p.request_id.clone(), p))
        .collect();
    let mut fresh: Vec<(usize, Submission)> = Vec::new();
    let mut replayed: Vec<(usize, Uuid)> = Vec::new();
    for (i, submission) in parsed {
        match prior.get(&submission.request_id) {
            Some(p) if p.fingerprint != submission.fingerprint() => {
                let error = Error::invalid(field("request_id"), crate::msg!(REQUEST_ID_REUSED));
                answers[i] = Some(Err(error));
            }
            Some(store::PriorAnswer { enrollment_id: Some(id), .. }) => replayed.push((i, *id)),
            Some(store::PriorAnswer { refusal: Some(bytes), .. }) => {
                answers[i] = Some(Err(crate::error::replay(bytes)?));
            }
            _ => fresh.push((i, submission)),
        }
    }

    // The subsidies, locked: decisions on one subsidy are taken one unit of work at a time.
    let subsidy_ids: Vec<Uuid> = fresh.iter().map(|(_, s)| s.subsidy_id).collect::<HashSet<_>>().into_iter().collect();
    let mut subsidies: HashMap<Uuid, Subsidy> = HashMap::new();
    for row in subsidy::store::lock(w, &subsidy_ids).await? {
        if ownership == Ownership::AnyFunder || row.funder_id == funder {
            subsidies.insert(row.id, row.into_subsidy().map_err(Error::Internal)?);
        }
    }
    let niks: Vec<Nik> = fresh.iter().map(|(_, s)| s.nik.clone()).collect();
    let facts: HashMap<Nik, WorkerFacts> = store::worker_facts(&mut **w, &niks).await?.into_iter().collect();
    let conflicts = conflicts_of(w, fresh.iter().filter_map(|(_, s)| Some((s, subsidies.get(&s.subsidy_id)?)))).await?;
    let mut loads: HashMap<Uuid, Load> = HashMap::new();
    for id in subsidies.keys() {
        loads.insert(*id, store::load(&mut **w, *id).await?);
    }

    let mut refused: Vec<(usize, Submission, Vec<Refusal>)> = Vec::new();
    let mut accepted: Vec<(usize, Submission, store::NewEnrollment)> = Vec::new();
    for (i, submission) in fresh {
        let Some(subsidy) = subsidies.get(&submission.subsidy_id) else {
            let message = match ownership {
                Ownership::Caller => crate::msg!(
                    NO_SUBSIDY_OF_YOURS,
                    id = submission.subsidy_id.to_string(),
                    field = field("subsidy_id")
                ),
                Ownership::AnyFunder => {
                    crate::msg!(NO_SUBSIDY_FIELD, id = submission.subsidy_id.to_string(), field = field("subsidy_id"))
                }
            };
            answers[i] = Some(Err(Error::NotFound(message)));
            continue;
        };
        let worker = facts.get(&submission.nik);
        let conflict = conflicts.get(&(submission.nik.clone(), submission.first_month));
        let load = loads.get_mut(&subsidy.id).expect("every locked subsidy has its load");
        match super::admit(subsidy, worker, submission.first_month, conflict, *load) {
            Ok(admitted) => {
                *load = admitted;
                let new = store::NewEnrollment {
                    id: Uuid::new_v4(),
                    subsidy_id: subsidy.id,
                    worker_nik: submission.nik.clone(),
                    first_month: submission.first_month,
                    end_month: subsidy.last_month.next(),
                    request_id: submission.request_id.clone(),
                };
                accepted.push((i, submission, new));
            }
            Err(refusals) => refused.push((i, submission, refusals)),
        }
    }

    // The exclusion constraint has the last word: a row another transaction (or an earlier row of this batch)
    // got to first is not inserted, and is refused for double funding like any other.
    let new_rows: Vec<store::NewEnrollment> = accepted.iter().map(|(_, _, n)| n.clone()).collect();
    let inserted: HashSet<Uuid> = store::insert(w, &new_rows, funder).await?.into_iter().collect();
    let (accepted, lost): (Vec<_>, Vec<_>) = accepted.into_iter().partition(|(_, _, n)| inserted.contains(&n.id));
    if !lost.is_empty() {
        let late =
            conflicts_of(w, lost.iter().filter_map(|(_, s, _)| Some((s, subsidies.get(&s.subsidy_id)?)))).await?;
        for (i, submission, new) in lost {
            let funder_of_target = subsidies.get(&new.subsidy_id).map(|s| s.funder_id);
            let refusal = late
                .get(&(submission.nik.clone(), submission.first_month))
                .zip(funder_of_target)
                .map(|(conflict, funder)| conflict.refusal(funder))
                .unwrap_or_else(Refusal::funded_meanwhile);
            refused.push((i, submission, vec![refusal]));
        }
    }

    let mut records = Vec::with_capacity(accepted.len() + refused.len());
    for (_, submission, new) in &accepted {
        records.push(store::PriorAnswer {
            request_id: submission.request_id.clone(),
            fingerprint: submission.fingerprint(),
            enrollment_id: Some(new.id),
            refusal: None,
        });
    }
    for (i, submission, refusals) in refused {
        records.push(store::PriorAnswer {
            request_id: submission.request_id.clone(),
            fingerprint: submission.fingerprint(),
            enrollment_id: None,
            refusal: Some(crate::error::stored_refusal(&refusals)),
        });
        w.touch_refused(&submission.nik);
        answers[i] = Some(Err(Error::Refused(refusals)));
    }
    store::record_answers(w, funder, &records).await?;
    w.touch_all(accepted.iter().map(|(_, s, _)| &s.nik));
    w.emit_all(
        accepted.iter().map(|(_, _, n)| NewEvent::enrollment(Kind::EnrollmentSubmitted, n.id, Some(n.subsidy_id))),
    );

    let ids: Vec<Uuid> = accepted.iter().map(|(_, _, n)| n.id).chain(replayed.iter().map(|(_, id)| *id)).collect();
    let rows: HashMap<Uuid, Enrollment> =
        store::get_many(&mut **w, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    for (i, id) in accepted.iter().map(|(i, _, n)| (*i, n.id)).chain(replayed) {
        answers[i] = Some(rows.get(&id).cloned().ok_or_else(vanished));
    }
    Ok(answers.into_iter().map(|a| a.unwrap_or_else(|| Err(vanished()))).collect())
}

/// The enrollment already funding the worker of each submission in one of its months, by (NIK, first month).
async fn conflicts_of<'a>(
    conn: &mut sqlx::PgConnection,
    submissions: impl Iterator<Item = (&'a Submission, &'a Subsidy)>,
) -> Result<HashMap<(Nik, Month), Conflict>, Error> {
    let mut asked = Vec::new();
    let mut firsts: Vec<(Nik, Month)> = Vec::new();
    // A first month past the subsidy's last funds nothing (and is refused by the rules), so it conflicts with nothing.
    for (submission, subsidy) in submissions.filter(|(s, subsidy)| s.first_month <= subsidy.last_month) {
        asked.push((submission.nik.clone(), submission.first_month, subsidy.last_month.next()));
        if !firsts.contains(&(submission.nik.clone(), submission.first_month)) {
            firsts.push((submission.nik.clone(), submission.first_month));
        }
    }
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let mut out = HashMap::new();
    for (nik, conflict) in store::funding_conflicts(&mut *conn, &asked).await? {
        // The conflict query answers one row per asked (NIK, first month); match it back by NIK.
        for key in firsts.iter().filter(|(n, _)| *n == nik) {
            out.insert(key.clone(), conflict.clone());
        }
    }
    Ok(out)
}

/// The submission a funder made under `request_id`, if any.
async fn prior_enrollment(w: &mut Write, caller: &Caller, request_id: &str) -> Result<Option<Enrollment>, Error> {
    let prior = store::prior_answers(&mut **w, caller.agency_id(), &[request_id.to_owned()]).await?;
    match prior.into_iter().next().and_then(|p| p.enrollment_id) {
        Some(id) => Ok(store::get(&mut **w, id).await?),
        None => Ok(None),
    }
}

/// The caller's enrollment `id`, locked; NOT_FOUND when it is not the caller's.
async fn lock_own(w: &mut Write, caller: &Caller, id: Uuid) -> Result<Enrollment, Error> {
    match store::lock(w, id).await? {
        Some(row) if row.funder_id == caller.agency_id() => Ok(row),
        _ => Err(Error::NotFound(crate::msg!(NO_ENROLLMENT_OF_YOURS, id = id.to_string()))),
    }
}

/// Ends a locked enrollment from `end_month`, if the life cycle allows.
async fn end_locked(w: &mut Write, row: &Enrollment, end_month: Month, reason: EndReason) -> Result<(), Error> {
    row.check_end().map_err(|refusal| Error::Refused(vec![refusal]))?;
    store::end(w, row.id, end_month, reason).await?;
    let kind = if reason == EndReason::HandedOver { Kind::EnrollmentHandedOver } else { Kind::EnrollmentEnded };
    w.emit(NewEvent::enrollment(kind, row.id, Some(row.subsidy_id)));
    Ok(())
}

/// The subsidies among `subsidies` whose membership is lapsed today, with the date it lapsed.
async fn lapses(conn: &mut sqlx::PgConnection, subsidies: &[Uuid]) -> Result<HashMap<Uuid, NaiveDate>, Error> {
    if subsidies.is_empty() {
        return Ok(HashMap::new());
    }
    // No coverage service answers ledgers yet: its store is read directly.
    let ledgers = crate::coverage::service::ledgers(conn, subsidies, today()).await?;
    Ok(ledgers.into_iter().filter_map(|(id, ledger)| Some((id, ledger.lapsed_on()?))).collect())
}

/// An enrollment as shown: LAPSED (with the day) when it is active and its subsidy lapsed.
fn view(enrollment: Enrollment, lapses: &HashMap<Uuid, NaiveDate>) -> View {
    let lapsed_on =
        if enrollment.status == Status::Active { lapses.get(&enrollment.subsidy_id).copied() } else { None };
    View { enrollment, lapsed_on }
}

fn vanished() -> Error {
    Error::internal(anyhow::anyhow!("an enrollment vanished inside its own transaction"))
}
