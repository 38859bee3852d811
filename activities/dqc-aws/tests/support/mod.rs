//! The AWS emulator for the tests: moto in server mode on 127.0.0.1 (a free port), started
//! once per test binary and ended with it; and a fault-injecting HTTP proxy on loopback.

#![allow(dead_code, reason = "each test binary uses part of the support")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use dqc_aws::{Aws, Connect, Exec};

/// The moto server of this test binary.
pub struct Moto {
    pub url: String,
    _child: Child,
}

/// Starts moto once (a Python child that exits when this process does).
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // The server runs in a thread of the Python process, which ends when its parent (this
        // test binary) is gone.
        let script = format!(
            "import os, time\nfrom moto.server import ThreadedMotoServer\nparent = os.getppid()\n\
             s = ThreadedMotoServer(ip_address='127.0.0.1', port={port}, verbose=False)\ns.start()\n\
             while os.getppid() == parent:\n    time.sleep(0.5)\ns.stop()\n"
        );
        let child = Command::new("python3")
            .args(["-c", &script])
            // Step Functions' interpreter calls the services at moto's own port.
            .env("MOTO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto (pip install 'moto[server]')");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { url, _child: child }
    })
}

/// A connection to `url` with the SDK's retries (`attempts` per call).
pub fn aws(url: &str, attempts: u32) -> Aws {
    aws_with(url, attempts, Duration::from_secs(10))
}

/// The same, with a bound on each attempt.
pub fn aws_with(url: &str, attempts: u32, attempt_timeout: Duration) -> Aws {
    Aws::connect(
        Exec::owned().unwrap(),
        &Connect {
            endpoint_url: Some(url.to_owned()),
            region: Some("us-east-1".into()),
            max_attempts: Some(attempts),
            operation_timeout: Some(Duration::from_secs(20)),
            attempt_timeout: Some(attempt_timeout),
            static_keys: Some(("testing".into(), "testing".into())),
        },
    )
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// What the proxy does with one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Passes it to the emulator.
    Forward,
    /// Answers with this status and body, without passing it on.
    Answer(u16, &'static str, &'static str),
    /// Waits, then passes it on.
    Delay(Duration),
    /// Closes the connection without answering.
    Drop,
}

/// A proxy on loopback that applies `schedule` to requests in turn (then forwards everything).
pub struct Proxy {
    pub url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

pub fn proxy(target: &str, schedule: Vec<Fault>) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let target = target.trim_start_matches("http://").to_owned();
    let schedule = Arc::new(schedule);
    let next = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (schedule, next, target, seen) =
                (Arc::clone(&schedule), Arc::clone(&next), target.clone(), Arc::clone(&seen2));
            std::thread::spawn(move || {
                let _ = serve(conn, &target, &schedule, &next, &seen);
            });
        }
    });
    Proxy { url, seen }
}

fn read_message(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    r.read_exact(&mut body)?;
    Ok(Some((head, body)))
}

/// Keeps the request line and headers, but asks for the connection to close after the answer.
fn closing(head: &str) -> String {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn serve(
    client: TcpStream,
    target: &str,
    schedule: &[Fault],
    next: &AtomicUsize,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    // One request per connection: every answer closes it.
    if let Some((head, body)) = read_message(&mut reader)? {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let fault = schedule.get(n).cloned().unwrap_or(Fault::Forward);
        seen.lock().unwrap().push(format!("{} {:?}", head.lines().next().unwrap_or_default(), fault));
        match fault {
            Fault::Drop => {
                let _ = client.shutdown(Shutdown::Both);
                return Ok(());
            }
            Fault::Answer(status, content_type, text) => {
                let answer = format!(
                    "HTTP/1.1 {status} Fault\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                client.write_all(answer.as_bytes())?;
                return Ok(());
            }
            Fault::Delay(d) => std::thread::sleep(d),
            Fault::Forward => {}
        }
        let mut upstream = TcpStream::connect(target)?;
        upstream.write_all(closing(&head).as_bytes())?;
        upstream.write_all(&body)?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer)?;
        client.write_all(&answer)?;
    }
    Ok(())
}

/// A bucket on the emulator, and a client that addresses it by path.
pub fn create_bucket(aws: &Aws, name: &str) -> aws_sdk_s3::Client {
    let client =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws.config).force_path_style(true).build());
    aws.exec.block_on(client.create_bucket().bucket(name).send()).unwrap();
    client
}

/// A metadata table on the emulator, keyed `(pk, sk)` as the adapter expects.
pub fn create_metadata_table(aws: &Aws, table: &str) {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    let client = aws_sdk_dynamodb::Client::new(&aws.config);
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
    let attr = |n: &str| {
        AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().unwrap()
    };
    let request = client
        .create_table()
        .table_name(table)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .billing_mode(BillingMode::PayPerRequest);
    aws.exec.block_on(request.send()).unwrap();
}

/// Queues results for the next Athena queries in moto (its result-injection endpoint).
pub fn inject_athena_results(url: &str, results: serde_json::Value) {
    let body = serde_json::json!({"account_id": "123456789012", "region": "us-east-1", "results": results}).to_string();
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /moto-api/static/athena/query-results HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201") || answer.starts_with("HTTP/1.1 200"), "{answer}");
}
