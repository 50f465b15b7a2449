//! Uploads under attack (issue 11, items 4, 6 and 14): a photo is scrubbed however its first
//! bytes are split across body chunks; trickling uploads cannot hold connections, file
//! descriptors or the long upload deadline; the disk keeps a free-space floor; the typed fields
//! of a multipart form are held to the text-body limit; invalid forms count against the rate
//! limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use common::*;

/// Rate limits out of the way (tests that are not about them send many forms).
const NO_RATE_LIMIT: &str = "[rate]\nsubmissions_per_minute = 100000\nsubmission_burst = 100000\n\
     status_checks_per_minute = 100000\nstatus_check_burst = 100000\n";

/// A minimal JPEG whose EXIF holds a GPS marker (same shape as tests/evidence.rs).
fn jpeg_with_gps(marker: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let exif = format!("Exif\0\0GPSLatitude={marker}");
    v.extend([0xFF, 0xE1]);
    v.extend(((exif.len() + 2) as u16).to_be_bytes());
    v.extend(exif.as_bytes());
    v.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    v.extend([1u8; 64]);
    v.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    v.extend([0x12, 0x34, 0x56, 0x78]);
    v.extend([0xFF, 0xD9]);
    v
}

/// A request body delivered in two chunks with a pause between them, so the multipart parser
/// sees the first chunk alone (it takes every chunk that is ready at once).
struct TwoChunks {
    first: Option<Bytes>,
    pause: Pin<Box<tokio::time::Sleep>>,
    second: Option<Bytes>,
}

impl http_body::Body for TwoChunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Some(b) = self.first.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(b))));
        }
        if self.second.is_some() {
            if self.pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            return Poll::Ready(self.second.take().map(|b| Ok(http_body::Frame::data(b))));
        }
        Poll::Ready(None)
    }
}

fn multipart_request(path: &str, body: Body) -> Request<Body> {
    Request::post(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("sec-fetch-site", "same-origin")
        .body(body)
        .unwrap()
}

/// Opens a stored blob with a member's identity: the file as stored, padding removed.
fn open_blob(path: &std::path::Path, identity: &age::x25519::Identity) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap();
    let decryptor = age::Decryptor::new(std::io::BufReader::new(file)).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap();
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain).unwrap();
    bisik::crypto::padding::unpad_in_place(&mut plain).unwrap();
    plain
}

fn blob_files(data_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    all_files(&data_dir.join("blobs"))
        .into_iter()
        .filter(|p| !p.starts_with(data_dir.join("blobs/tmp")))
        .collect()
}

/// Item 4: the image type is known from the first bytes of the file whatever the chunking:
/// split after k bytes of the photo, for every k in 0..=16, the stored photo has no GPS tag.
#[tokio::test]
async fn a_photo_is_scrubbed_however_its_first_bytes_are_split() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, _app, _clock) = fx.router().await;
    let fields = report_fields(&[("title", "Split photo")]);
    for k in 0..=16usize {
        let photo = jpeg_with_gps(&format!("SPLIT{k:02}"));
        let body = multipart(&fields, &[("photo.jpg", "image/jpeg", &photo)]);
        let at = body
            .windows(photo.len())
            .position(|w| w == photo.as_slice())
            .unwrap();
        let split = at + k;
        let chunks = TwoChunks {
            first: Some(Bytes::copy_from_slice(&body[..split])),
            pause: Box::pin(tokio::time::sleep(Duration::from_millis(20))),
            second: Some(Bytes::copy_from_slice(&body[split..])),
        };
        let r = send(
            &router,
            multipart_request("/report?lang=en", Body::new(chunks)),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "k = {k}: {}", r.text());
        assert!(element_text(&r.text(), "receipt").is_some());
    }
    let inv = fx.identity("health-investigator");
    let blobs = blob_files(fx.data_dir());
    assert_eq!(blobs.len(), 17, "{blobs:?}");
    let mut unscrubbed = Vec::new();
    for blob in &blobs {
        let plain = open_blob(blob, &inv);
        assert!(
            contains(&plain, &[0x12, 0x34, 0x56, 0x78]),
            "image data kept"
        );
        if contains(&plain, b"GPSLatitude") {
            let at = plain.windows(5).position(|w| w == b"SPLIT").unwrap();
            unscrubbed.push(String::from_utf8_lossy(&plain[at..at + 7]).into_owned());
        }
    }
    unscrubbed.sort();
    assert!(
        unscrubbed.is_empty(),
        "photos stored with their GPS tag: {unscrubbed:?}"
    );
}

/// Item 14: the typed fields of a multipart form are held to the text-body limit
/// (`http.request_body_max_bytes`), whether in one huge field or in many small ones; the
/// citizen gets the 413 page in their language, and nothing is saved.
#[tokio::test]
async fn multipart_text_fields_are_held_to_the_text_limit() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, _clock) = fx.router().await;
    let huge = "a".repeat(5 * 1024 * 1024);
    let one_field = report_fields(&[("body", &huge)]);
    let small = "b".repeat(60 * 1024);
    let names: Vec<String> = (0..40).map(|i| format!("extra{i}")).collect();
    let mut many_fields = report_fields(&[]);
    many_fields.extend(names.iter().map(|n| (n.as_str(), small.as_str())));
    for (lang, expected) in [("en", "too large"), ("id", "terlalu besar")] {
        for fields in [&one_field, &many_fields] {
            let body = multipart(fields, &[]);
            let r = send(
                &router,
                multipart_request(&format!("/report?lang={lang}"), Body::from(body)),
            )
            .await;
            assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
            assert!(r.text().contains(expected), "{}", r.text());
            assert!(element_text(&r.text(), "receipt").is_none());
            // The same with a file after the fields: refused before the file is read.
            let body = multipart(fields, &[("a.txt", "text/plain", b"evidence")]);
            let r = send(
                &router,
                multipart_request(&format!("/report?lang={lang}"), Body::from(body)),
            )
            .await;
            assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
            assert!(r.text().contains(expected), "{}", r.text());
        }
    }
    let cases: i64 = app
        .store
        .count_by_state()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(cases, 0, "nothing was saved");
    assert!(blob_files(fx.data_dir()).is_empty());
    // A normal multipart report with a file still goes through.
    let body = multipart(&report_fields(&[]), &[("a.txt", "text/plain", b"evidence")]);
    let r = send(
        &router,
        multipart_request("/report?lang=en", Body::from(body)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Item 14: invalid forms count against the submission bucket — with or without files, plain
/// or multipart — so a flood of invalid attempts is turned away like a flood of valid ones.
#[tokio::test]
async fn invalid_reports_count_against_the_rate_limit() {
    let bad = report_fields(&[("title", "")]);
    let form = |what: &str| match what {
        "urlencoded" => post_form("/report?lang=en", &bad),
        "multipart without files" => {
            multipart_request("/report?lang=en", Body::from(multipart(&bad, &[])))
        }
        _ => multipart_request(
            "/report?lang=en",
            Body::from(multipart(&bad, &[("a.txt", "text/plain", b"x")])),
        ),
    };
    for what in [
        "urlencoded",
        "multipart without files",
        "multipart with a file",
    ] {
        let fx = Fixture::new(&format!(
            "{CHEAP_KDF}\n[rate]\nsubmissions_per_minute = 1\nsubmission_burst = 3\n"
        ));
        let (router, _app, _clock) = fx.router().await;
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let r = send(&router, form(what)).await;
            statuses.push(r.status.as_u16());
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                assert!(r.text().contains("very busy"), "{}", r.text());
                assert!(
                    r.text().contains("At the district clinic"),
                    "the form is kept"
                );
            }
        }
        assert!(
            statuses.contains(&422) && statuses.contains(&429),
            "{what}: {statuses:?}"
        );
    }
}

/// Item 6 (e): below the free-disk floor, files are refused cleanly with the form kept, and
/// nothing is stored; reports without files still go through.
#[tokio::test]
async fn below_the_free_disk_floor_files_are_refused_with_the_form_kept() {
    // A floor larger than any disk.
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{NO_RATE_LIMIT}\n[attachments]\nmin_free_disk_bytes = 1125899906842624\n"
    ));
    let (router, _app, _clock) = fx.router().await;
    let fields = report_fields(&[("title", "Kept title"), ("body", "Kept body")]);
    let body = multipart(&fields, &[("a.txt", "text/plain", b"evidence")]);
    let r = send(
        &router,
        multipart_request("/report?lang=en", Body::from(body)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    let html = r.text();
    assert!(html.contains("NOT saved"), "{html}");
    assert_eq!(input_value(&html, "title").unwrap(), "Kept title");
    assert!(html.contains("Kept body"));
    assert!(element_text(&html, "receipt").is_none());
    assert!(blob_files(fx.data_dir()).is_empty());
    assert!(all_files(&fx.data_dir().join("blobs/tmp")).is_empty());
    // Without files: saved.
    let (receipt, _) = submit(&router, &[("title", "No files")]).await;
    // Files added from the status page: refused too, nothing stored.
    let body = multipart(
        &[("receipt", receipt.as_str())],
        &[("b.txt", "text/plain", b"more")],
    );
    let r = send(
        &router,
        multipart_request("/status/attach?lang=en", Body::from(body)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert!(blob_files(fx.data_dir()).is_empty());
}

/// The start of a multipart `POST /report` whose body never completes.
fn slow_upload_head(addr: &str, after_fields: &str) -> Vec<u8> {
    let mut b = format!(
        "POST /report?lang=en HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 1000000\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(after_fields.as_bytes());
    b
}

/// Valid typed fields as multipart parts (no closing boundary).
fn field_parts(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
        })
        .collect()
}

/// A connection's fate, as its client sees it.
#[derive(Debug, Default, Clone)]
struct Fate {
    answer: Vec<u8>,
    closed_after: Option<Duration>,
}

/// Trickles one byte every `every` to each stream until the server closes them all or
/// `bound` passes; returns what each connection got.
fn trickle(mut streams: Vec<TcpStream>, every: Duration, bound: Duration) -> Vec<Fate> {
    let started = Instant::now();
    let mut fates = vec![Fate::default(); streams.len()];
    for s in &streams {
        s.set_nonblocking(true).unwrap();
    }
    let mut open: Vec<bool> = vec![true; streams.len()];
    let mut last_write = Instant::now();
    while open.iter().any(|o| *o) && started.elapsed() < bound {
        let write_now = last_write.elapsed() >= every;
        if write_now {
            last_write = Instant::now();
        }
        for (i, s) in streams.iter_mut().enumerate() {
            if !open[i] {
                continue;
            }
            let mut buf = [0u8; 4096];
            loop {
                match s.read(&mut buf) {
                    Ok(0) => {
                        open[i] = false;
                        break;
                    }
                    Ok(n) => fates[i].answer.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        open[i] = false;
                        break;
                    }
                }
            }
            if open[i] && write_now && s.write_all(b"x").is_err() {
                open[i] = false;
            }
            if !open[i] {
                fates[i].closed_after = Some(started.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    fates
}

fn post_with(agent: &ureq::Agent, base: &str, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let mut res = agent
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(pairs))
        .expect("an answer");
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

/// Item 6 (a), (b), (d): a bounded trickle flood of multipart uploads, against a server whose
/// file-descriptor limit is below the number of trickling clients. Connections are capped (the
/// server never runs out of descriptors), uploads beyond the in-flight cap are answered "busy"
/// at once, the trickling ones are cut off by the minimum body rate, and /healthz and receipt
/// checks answer all the while.
#[test]
fn a_trickle_flood_neither_exhausts_connections_nor_blocks_receipt_checks() {
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{NO_RATE_LIMIT}\n[http]\nrequest_timeout_secs = 45\nmax_connections = 64\n\
         max_uploads = 8\nupload_min_bytes = 256\nupload_rate_window_secs = 3\n"
    ));
    let server = ServerProcess::start_in(&["prlimit", "--nofile=160:160"], &fx.config_path, &[]);
    let base = server.base.clone();
    let addr = base.trim_start_matches("http://").to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into();
    let (status, html) = post_with(
        &agent,
        &base,
        "/report?lang=en",
        &report_fields(&[("title", "Before the trickle")]),
    );
    assert_eq!(status, 200, "{html}");
    let receipt = element_text(&html, "receipt").unwrap();

    let head = slow_upload_head(
        &addr,
        &format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nSlow"),
    );
    let clients = 200;
    let streams: Vec<TcpStream> = (0..clients)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(&head).unwrap();
            s
        })
        .collect();
    let flood = std::thread::spawn(move || {
        trickle(streams, Duration::from_secs(1), Duration::from_secs(25))
    });

    // While they trickle: the server answers.
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        let health = agent
            .get(format!("{base}/healthz"))
            .call()
            .expect("/healthz answers under the trickle flood");
        assert_eq!(health.status().as_u16(), 200);
        let (status, page) = post_with(&agent, &base, "/status?lang=en", &[("receipt", &receipt)]);
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Before the trickle"));
        std::thread::sleep(Duration::from_millis(500));
    }

    let fates = flood.join().unwrap();
    let log = server.log.lock().unwrap().clone();
    assert!(
        !log.contains("Too many open files"),
        "the server ran out of file descriptors:\n{log}"
    );
    let still_open = fates.iter().filter(|f| f.closed_after.is_none()).count();
    assert_eq!(still_open, 0, "trickling uploads still open after 25 s");
    let busy = fates
        .iter()
        .filter(|f| f.answer.starts_with(b"HTTP/1.1 503"))
        .count();
    assert!(
        busy >= clients - 64,
        "uploads beyond the in-flight cap are answered busy at once: {busy}"
    );
    let slowest = fates.iter().filter_map(|f| f.closed_after).max().unwrap();
    eprintln!("trickle flood: {busy} answered busy, the last cut after {slowest:?}");
    server.stop();
}

/// Item 6 (c): the long upload deadline starts only once the typed fields are read, checked and
/// counted: a form still trickling its typed fields is cut at the short request deadline, while
/// a valid report that is sending its file is not.
#[test]
fn the_long_deadline_starts_only_with_a_checked_file() {
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{NO_RATE_LIMIT}\n[http]\nrequest_timeout_secs = 2\nupload_timeout_secs = 600\n\
         upload_min_bytes = 1\nupload_rate_window_secs = 30\n"
    ));
    let server = ServerProcess::start(&fx.config_path, &[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let fields = report_fields(&[]);
    // Still sending typed fields (one more, slowly).
    let mut typing = field_parts(&fields);
    typing.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"location\"\r\n\r\nKec"
    ));
    // Sending a file after valid fields.
    let mut filing = field_parts(&fields);
    filing.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\nfile bytes"
    ));
    let streams: Vec<TcpStream> = [typing, filing]
        .iter()
        .map(|start| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(&slow_upload_head(&addr, start)).unwrap();
            s
        })
        .collect();
    let fates = trickle(streams, Duration::from_millis(500), Duration::from_secs(8));
    let typing = &fates[0];
    assert!(
        typing.closed_after.is_some(),
        "a form still sending its typed fields got the long deadline"
    );
    assert!(
        typing.answer.starts_with(b"HTTP/1.1 504"),
        "{}",
        String::from_utf8_lossy(&typing.answer)
    );
    assert!(
        fates[1].closed_after.is_none(),
        "a checked upload keeps the long deadline: {}",
        String::from_utf8_lossy(&fates[1].answer)
    );
    server.stop();
}
