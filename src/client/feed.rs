//! `lindung feed follow`: the event feed as JSON lines on standard output, resumable from a position file.
//!
//! Each event is printed (and flushed) before its position is kept, so a follower stopped at any point resumes
//! with nothing missed; at worst the one event printed just before the stop is printed again. A broken stream
//! (the server restarting) is resumed from the last position, after a pause that grows to 30 s.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use prost::Message;

use crate::{
    config::FollowArgs,
    proto::v1::{self as pb, feed_service_client::FeedServiceClient, subscribe_response::Message as Item},
};

const LONGEST_PAUSE: Duration = Duration::from_secs(30);

pub async fn follow(args: FollowArgs) -> anyhow::Result<()> {
    let mut position = Position::open(args.position.as_deref())?;
    let mut client = FeedServiceClient::new(super::connect(&args.server).await?).max_decoding_message_size(usize::MAX);
    let mut pause = Duration::from_secs(1);
    loop {
        let request = pb::SubscribeRequest { after: position.last, kinds: vec![] };
        let broken = match client.subscribe(request).await {
            Ok(stream) => {
                let mut stream = stream.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(message)) => {
                            pause = Duration::from_secs(1);
                            match message.message {
                                Some(Item::Event(event)) => {
                                    print(&event)?;
                                    position.keep(event.position)?;
                                }
                                Some(Item::Heartbeat(heartbeat)) => {
                                    // Every event up to the head that this caller may see has been sent.
                                    if heartbeat.head > position.last {
                                        position.keep(heartbeat.head)?;
                                    }
                                    if args.until_caught_up {
                                        return Ok(());
                                    }
                                }
                                None => {}
                            }
                        }
                        Ok(None) => break tonic::Status::unavailable("the server ended the stream"),
                        Err(status) => break status,
                    }
                }
            }
            Err(status) => status,
        };
        // The server going away (UNAVAILABLE) or the connection breaking (UNKNOWN, CANCELLED) is resumed.
        if !matches!(broken.code(), tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled) {
            return Err(anyhow::Error::new(broken).context("the server refused the subscription"));
        }
        eprintln!("the feed broke ({}); resuming after position {} in {:?}", broken.message(), position.last, pause);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// One event as a line of proto3 JSON (`{"position":"3","kind":"EVENT_KIND_ENROLLMENT_CONFIRMED",…}`), through
/// the descriptors the server's JSON face uses.
fn print(event: &pb::FeedEvent) -> anyhow::Result<()> {
    let descriptor = crate::connect::DESCRIPTORS
        .get_message_by_name("lindung.v1.FeedEvent")
        .context("the descriptor of lindung.v1.FeedEvent")?;
    let message = prost_reflect::DynamicMessage::decode(descriptor, event.encode_to_vec().as_slice())?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &message)?;
    out.write_all(b"\n")?;
    out.flush().context("writing to standard output")
}

/// The last position processed, and the file that keeps it.
struct Position {
    last: u64,
    file: Option<PathBuf>,
}

impl Position {
    /// Reads the file; absent or empty, the feed is read from its beginning.
    fn open(file: Option<&Path>) -> anyhow::Result<Position> {
        let last = match file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                match text.trim() {
                    "" => 0,
                    n => n.parse().with_context(|| format!("{}: {n:?} is not a feed position", path.display()))?,
                }
            }
            _ => 0,
        };
        Ok(Position { last, file: file.map(Path::to_path_buf) })
    }

    /// Keeps `position`: written beside the file and renamed over it, so that a stop mid-write leaves the old one.
    fn keep(&mut self, position: u64) -> anyhow::Result<()> {
        self.last = position;
        let Some(path) = &self.file else { return Ok(()) };
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        std::fs::write(&temporary, format!("{position}\n"))
            .and_then(|()| std::fs::rename(&temporary, path))
            .with_context(|| format!("keeping the position in {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.position");
        assert_eq!(Position::open(Some(&path)).unwrap().last, 0);
        Position::open(Some(&path)).unwrap().keep(42).unwrap();
        assert_eq!(Position::open(Some(&path)).unwrap().last, 42);
        std::fs::write(&path, "x").unwrap();
        assert!(Position::open(Some(&path)).is_err());
    }
}
