//! The README's first command, as an operator runs it: `lindung serve` with no DATABASE_URL on a machine where
//! PostgreSQL is installed but not running, then `lindung agency add`, a call, and SIGTERM.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use lindung::proto::v1 as pb;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::helpers::Bearer;

pub(crate) use crate::helpers::LINDUNG;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Kills the server if the test fails half-way, so no process outlives the test.
pub(crate) struct Server(pub(crate) Child);

impl Server {
    /// SIGTERM, as an init system stops a service, then waits for the exit.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self.0.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls until the server reports SERVING; answers how long it took.
pub(crate) async fn wait_until_serving(url: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if let Ok(channel) = tonic::transport::Channel::from_shared(url.to_owned()).unwrap().connect().await {
            let reply = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await;
            if reply.is_ok_and(|r| r.into_inner().status() == ServingStatus::Serving) {
                return start.elapsed();
            }
        }
        assert!(start.elapsed() < limit, "not SERVING within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn serve_without_a_database_url_runs_its_own_store_and_stops_it_on_sigterm() {
    let data_dir = tempfile::Builder::new().prefix("lindung-serve-").tempdir_in("/tmp").unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let env = |command: &mut Command| {
        command.env_remove("DATABASE_URL").env("LINDUNG_DATA_DIR", data_dir.path()).env("RUST_LOG", "warn");
    };

    let mut serve = Command::new(LINDUNG);
    serve.args(["serve", "--listen", &listen]).stdout(Stdio::null());
    env(&mut serve);
    crate::helpers::serve_logs(&mut serve, false);
    let mut server = Server(serve.spawn().unwrap());
    let url = format!("http://{listen}");
    let took = wait_until_serving(&url, Duration::from_secs(30)).await;
    eprintln!("lindung serve (fresh embedded store) reported SERVING after {took:?}");

    // The agency command reaches the store of the running server.
    let mut add = Command::new(LINDUNG);
    add.args(["agency", "add", "--kind", "city", "--region", "32.71", "--name", "Pemerintah Kota Bogor"]);
    env(&mut add);
    let output = add.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("lk_"), "{key}");

    let channel = tonic::transport::Channel::from_shared(url.clone()).unwrap().connect().await.unwrap();
    let mut client = pb::agency_service_client::AgencyServiceClient::with_interceptor(channel, Bearer::new(&key));
    let me = client.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(me.agency.unwrap().region_code, "32.71");

    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        !data_dir.path().join("postgres/pg/postmaster.pid").exists(),
        "the embedded PostgreSQL stopped with the server"
    );

    // Restarted on the same data directory, the store and its agency are still there.
    let mut serve = Command::new(LINDUNG);
    serve.args(["serve", "--listen", &listen]).stdout(Stdio::null());
    env(&mut serve);
    crate::helpers::serve_logs(&mut serve, false);
    let mut server = Server(serve.spawn().unwrap());
    wait_until_serving(&url, Duration::from_secs(30)).await;
    let channel = tonic::transport::Channel::from_shared(url).unwrap().connect().await.unwrap();
    let mut client = pb::agency_service_client::AgencyServiceClient::with_interceptor(channel, Bearer::new(&key));
    assert!(client.who_am_i(pb::WhoAmIRequest {}).await.is_ok());
    assert!(server.terminate().success());
}
