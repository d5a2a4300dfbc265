//! The data key ring from configuration, and the operator's commands on it: `lindung keys rotate` re-seals every
//! value not under the current key, online and in batches; `lindung keys status` counts the values under each key
//! (docs/SECURITY.md, "Data keys").

use std::{io::IsTerminal, time::Duration};

use anyhow::{Context, anyhow};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    audit::Pseudonymizer,
    claim::store::{self, SealedValues},
    config::{DataKeyArgs, KeyRingArgs, KeysCommand, StoreConfig},
    database::{self, Database},
    seal::{DataKey, KeyId, Sealer},
};

/// The ring `args` configure: the data key seals (the derived one when none is given), the previous keys open.
pub fn ring(pseudonymizer: &Pseudonymizer, args: &DataKeyArgs) -> anyhow::Result<Sealer> {
    let current = match &args.data_key {
        Some(value) => data_key(pseudonymizer, value).context("--data-key (LINDUNG_DATA_KEY)")?,
        None => pseudonymizer.data_key(),
    };
    let previous = args
        .previous_data_keys
        .iter()
        .map(|value| data_key(pseudonymizer, value))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("--previous-data-keys (LINDUNG_PREVIOUS_DATA_KEYS)")?;
    Ok(Sealer::ring(current, previous)?)
}

/// One configured key: `derived`, 64 hex digits, or a file holding them. An error never shows the value given.
fn data_key(pseudonymizer: &Pseudonymizer, value: &SecretString) -> anyhow::Result<DataKey> {
    let value = value.expose_secret().trim();
    if value == "derived" {
        return Ok(pseudonymizer.data_key());
    }
    if let Ok(key) = DataKey::from_hex(value) {
        return Ok(key);
    }
    let path = std::path::Path::new(value);
    if !path.is_file() {
        return Err(anyhow!("a data key is 64 hex digits, a file holding them, or `derived`"));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    DataKey::from_hex(&text).with_context(|| path.display().to_string())
}

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotated {
    pub claims: u64,
    pub values: u64,
}

/// Re-seals, under the sealer's current key, every sealed value under another key (and seals texts stored in clear),
/// `batch` claims per transaction, each batch locked with `skip locked` so that the calls of running servers are not
/// waited for nor made to wait long. A pass goes through the claims once in id order; claims skipped because a call
/// held them are taken by the next pass, until none is left. A batch that does not open (a key missing from the
/// ring) stops the rotation with its error, after the batches before it committed: running it again resumes.
pub async fn rotate(
    pool: &PgPool,
    sealer: &Sealer,
    batch: i64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Rotated> {
    let current = sealer.current().to_string();
    let mut done = Rotated::default();
    let mut progress_at = std::time::Instant::now();
    loop {
        let mut after = Uuid::nil();
        let (mut pass, mut pass_values) = (0, 0);
        loop {
            let mut tx = pool.begin().await?;
            store::mark_resealing(&mut tx).await?;
            let rows = store::lock_to_reseal(&mut tx, &current, after, batch).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let mut values = 0;
            let resealed = rows
                .into_iter()
                .map(|row| {
                    let id = row.id;
                    reseal(sealer, row, &mut values).with_context(|| format!("claim {id}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            store::write_resealed(&mut tx, &resealed).await?;
            tx.commit().await?;
            pass += resealed.len() as u64;
            pass_values += values;
            done.values += values;
            progress(resealed.len() as u64);
        }
        done.claims += pass;
        let left = store::count_to_reseal(pool, &current).await?;
        if left == 0 {
            return Ok(done);
        }
        // What is left was held by calls during the pass (a transaction holds a claim for at most the statement
        // timeout), or is being sealed by a process with another current key.
        if pass_values > 0 {
            progress_at = std::time::Instant::now();
        }
        anyhow::ensure!(
            progress_at.elapsed() < STALL_LIMIT,
            "{left} claims are still not under data key {current} after {} s without progress: held by calls, or \
             sealed by a lindung process with another --data-key; run `lindung keys rotate` again once every process \
             has the new key",
            STALL_LIMIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How long a rotation waits for claims that calls hold before it gives up (it can be run again).
const STALL_LIMIT: Duration = Duration::from_secs(120);

/// A claim's values, each under the current key; counts in `values` those that were not.
fn reseal(sealer: &Sealer, row: SealedValues, values: &mut u64) -> anyhow::Result<SealedValues> {
    let mut bytes = |value: Vec<u8>| -> anyhow::Result<Vec<u8>> {
        Ok(match sealer.reseal(&value)? {
            Some(resealed) => {
                *values += 1;
                resealed
            }
            None => value,
        })
    };
    let particulars = bytes(row.particulars)?;
    let breakdown = row.breakdown.map(&mut bytes).transpose()?;
    let mut text = |value: Option<String>| -> anyhow::Result<Option<String>> {
        let Some(value) = value else { return Ok(None) };
        Ok(Some(match sealer.reseal_text(&value)? {
            Some(resealed) => {
                *values += 1;
                resealed
            }
            None => value,
        }))
    };
    Ok(SealedValues {
        id: row.id,
        particulars,
        breakdown,
        accident_place: text(row.accident_place)?,
        accident_cause: text(row.accident_cause)?,
        notifier_name: text(row.notifier_name)?,
        notifier_phone: text(row.notifier_phone)?,
    })
}

/// The sealed values under each key id, and what the ring makes of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// Key ids with their counts (every key of the ring, with 0 if it seals none); `None`: texts stored in clear.
    pub keys: Vec<(Option<KeyId>, Role, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Current,
    Previous,
    /// Sealed under a key the ring does not hold: these values do not open.
    Missing,
    /// Stored in clear, before sealing.
    Clear,
}

impl Census {
    /// Values that do not open with the ring.
    pub fn unopenable(&self) -> impl Iterator<Item = (KeyId, i64)> + '_ {
        self.keys.iter().filter(|(_, role, _)| *role == Role::Missing).filter_map(|(id, _, n)| Some(((*id)?, *n)))
    }

    /// Values not under the current key (what a rotation re-seals).
    pub fn to_reseal(&self) -> i64 {
        self.keys.iter().filter(|(_, role, _)| *role != Role::Current).map(|(_, _, n)| n).sum()
    }
}

pub async fn census(pool: &PgPool, sealer: &Sealer) -> anyhow::Result<Census> {
    let counted = store::sealed_census(pool).await?;
    let count = |id: KeyId| counted.iter().find(|(k, _)| KeyId::parse(k) == Some(id)).map_or(0, |(_, n)| *n);
    let mut keys = vec![(Some(sealer.current()), Role::Current, count(sealer.current()))];
    keys.extend(sealer.previous().map(|id| (Some(id), Role::Previous, count(id))));
    for (key, n) in &counted {
        match KeyId::parse(key) {
            Some(id) if keys.iter().any(|(k, _, _)| *k == Some(id)) => {}
            Some(id) => keys.push((Some(id), Role::Missing, *n)),
            None if key == "clear" => keys.push((None, Role::Clear, *n)),
            // Not a key id lindung writes: an altered value, which opens under no key.
            None => keys.push((Some(KeyId::DERIVED), Role::Missing, *n)),
        }
    }
    Ok(Census { keys })
}

/// Logs, at a server's start, the sealed values its ring cannot open, with the key ids that would.
pub async fn warn_unopenable(pool: &PgPool, sealer: &Sealer) {
    match census(pool, sealer).await {
        Ok(census) => {
            for (id, values) in census.unopenable() {
                tracing::warn!(
                    key_id = %id,
                    values,
                    "sealed values are under a data key that is not in the key ring: they do not open until the key \
                     is given in --previous-data-keys"
                );
            }
        }
        Err(error) => tracing::warn!(error = %error, "could not count the sealed values under each data key"),
    }
}

/// `lindung keys …`.
pub async fn run(command: KeysCommand, store: &StoreConfig) -> anyhow::Result<()> {
    let ring_of = |args: &KeyRingArgs| -> anyhow::Result<Sealer> {
        let pseudonymizer =
            database::pseudonymizer(args.pseudonym_key.as_ref().map(|k| k.expose_secret()), &store.data_dir)?;
        ring(&pseudonymizer, &args.data_keys)
    };
    match command {
        KeysCommand::Generate => {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
            eprintln!(
                "a new data key, id {}; keep it as a secret (--data-key, LINDUNG_DATA_KEY):",
                DataKey::new(key).id()
            );
            println!("{}", hex::encode(key));
            Ok(())
        }
        KeysCommand::Status(args) => {
            let sealer = ring_of(&args)?;
            let db = Database::open_for_command(store).await?;
            let census = census(&db.pool, &sealer).await;
            db.close().await;
            print!("{}", report(&census?));
            Ok(())
        }
        KeysCommand::Rotate(args) => {
            let sealer = ring_of(&args.ring)?;
            let db = Database::open_for_command(store).await?;
            let result = rotate_with_progress(&db.pool, &sealer, args.batch_size).await;
            db.close().await;
            let rotated = result?;
            println!(
                "re-sealed {} values in {} claims under data key {}",
                rotated.values,
                rotated.claims,
                sealer.current()
            );
            Ok(())
        }
    }
}

async fn rotate_with_progress(pool: &PgPool, sealer: &Sealer, batch: i64) -> anyhow::Result<Rotated> {
    let total = store::count_to_reseal(pool, &sealer.current().to_string()).await?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
        let style =
            indicatif::ProgressStyle::with_template("re-sealing [{bar:40}] {pos}/{len} claims, {per_sec}, ETA {eta}")
                .expect("a valid template")
                .progress_chars("=> ");
        bar.set_style(style);
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let result = rotate(pool, sealer, batch, |claims| bar.inc(claims)).await;
    bar.finish_and_clear();
    result
}

/// The census as `keys status` prints it: a line per key id, then what the operator may do.
pub fn report(census: &Census) -> String {
    let mut out = String::new();
    for (id, role, values) in &census.keys {
        let id = id.map_or_else(|| "clear".to_owned(), |id| id.to_string());
        let role = match role {
            Role::Current => "current",
            Role::Previous => "previous",
            Role::Missing => "missing",
            Role::Clear => "clear",
        };
        out.push_str(&format!("{id}\t{role}\t{values}\n"));
    }
    let missing: i64 = census.unopenable().map(|(_, n)| n).sum();
    if missing > 0 {
        out.push_str(&format!(
            "{missing} values are under keys missing from the ring and do not open: give those keys in \
             --previous-data-keys\n"
        ));
    }
    match census.to_reseal() {
        0 => out.push_str("every sealed value is under the current key: the previous keys may be dropped\n"),
        n => out.push_str(&format!("{n} values are not under the current key: run `lindung keys rotate`\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(current: Option<&str>, previous: &[&str]) -> DataKeyArgs {
        DataKeyArgs {
            data_key: current.map(SecretString::from),
            previous_data_keys: previous.iter().map(|p| SecretString::from(*p)).collect(),
        }
    }

    #[test]
    fn a_ring_comes_from_hex_a_file_or_the_derived_key_and_errors_do_not_show_the_key() {
        let pseudonymizer = Pseudonymizer::new([7; 32]);
        let none = ring(&pseudonymizer, &args(None, &[])).unwrap();
        assert_eq!((none.current(), none.previous().count()), (KeyId::DERIVED, 0));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.key");
        std::fs::write(&file, format!("{}\n", "ab".repeat(32))).unwrap();
        let from_file = ring(&pseudonymizer, &args(Some(file.to_str().unwrap()), &["derived"])).unwrap();
        let from_hex = ring(&pseudonymizer, &args(Some(&"ab".repeat(32)), &[])).unwrap();
        assert_eq!(from_file.current(), from_hex.current());
        assert_eq!(from_file.previous().collect::<Vec<_>>(), [KeyId::DERIVED]);
        let sealed = from_hex.seal(b"x");
        assert_eq!(from_file.open(&sealed).unwrap(), b"x");

        let bad = "0123456789abcdef";
        let error = format!("{:#}", ring(&pseudonymizer, &args(Some(bad), &[])).unwrap_err());
        assert!(error.contains("--data-key") && !error.contains(bad), "{error}");
        let twice = ring(&pseudonymizer, &args(Some(&"ab".repeat(32)), &[&"ab".repeat(32)])).unwrap_err();
        assert!(format!("{twice:#}").contains("twice"), "{twice:#}");
    }
}
