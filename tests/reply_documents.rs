//! Replies with documents (issue 12): an officer answers the citizen with files attached —
//! sealed on the officer's machine (CLI, client, desk) to the case's readers and the reporter —
//! and the citizen downloads them from the status page without JavaScript, the receipt carried
//! in the form's body. A real server, a real desk, the Debian `age` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::desk::{DeskProcess, desk_get, raw};
use common::*;

/// Files a report to the health office through the citizen form; returns (receipt, case id).
fn file_report(base: &str) -> (String, String) {
    let mut res = loopback_agent()
        .post(format!("{base}/report?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("kind", "information_request"),
            ("title", "Anggaran puskesmas 2026"),
            (
                "body",
                "Mohon salinan rincian anggaran puskesmas tahun 2026.",
            ),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    (
        element_text(&html, "receipt").expect("receipt"),
        element_text(&html, "case-id").expect("case id"),
    )
}

/// A response read whole: status, headers, bytes.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

fn post_citizen(base: &str, path: &str, pairs: &[(&str, &str)]) -> Answer {
    let mut r = loopback_agent()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(pairs))
        .unwrap();
    let headers = r.headers().clone();
    Answer {
        status: r.status().as_u16(),
        headers,
        body: r
            .body_mut()
            .with_config()
            .limit(1 << 26)
            .read_to_vec()
            .unwrap(),
    }
}

fn status_html(base: &str, receipt: &str) -> String {
    let a = post_citizen(base, "/status?lang=en", &[("receipt", receipt)]);
    assert_eq!(a.status, 200, "{}", a.text());
    a.text()
}

fn download(base: &str, receipt: &str, seq: &str) -> Answer {
    post_citizen(
        base,
        "/status/file?lang=en",
        &[("receipt", receipt), ("file", seq)],
    )
}

/// The same receipt with its last secret digit changed (same lookup id, wrong secret), and one
/// whose lookup id does not exist; both with a matching check digit, so they are looked up.
fn wrong_and_unknown(receipt: &str) -> (String, String) {
    let digits: String = receipt.chars().filter(char::is_ascii_digit).collect();
    let digits = &digits[..24];
    let with_check_digit = |code: &str| {
        bisik::crypto::receipt::Receipt::parse(code)
            .unwrap()
            .with_check_digit()
            .display()
            .to_string()
    };
    let mut wrong = digits.to_owned();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '9' {
        '0'
    } else {
        char::from(last as u8 + 1)
    });
    let lookup: u32 = digits[..8].parse().unwrap();
    let unknown = format!("{:08}{}", (lookup + 1) % 100_000_000, &digits[8..]);
    (with_check_digit(&wrong), with_check_digit(&unknown))
}

/// A PDF-like document holding a canary.
fn pdf_with(canary: &str) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    for i in 0..3000 {
        v.extend_from_slice(format!("({canary} baris {i}: rincian anggaran) Tj\n").as_bytes());
    }
    v.extend_from_slice(b"trailer << /Root 1 0 R >>\n%%EOF\n");
    v
}

/// The reporter's age identity, derived from the receipt as the server does, in a file.
fn reporter_identity_file(fx: &Fixture, receipt: &str, dir: &Path) -> PathBuf {
    let receipt = bisik::crypto::receipt::Receipt::parse(receipt).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let record = rt.block_on(async {
        let store = fx.config().open_store().await.unwrap();
        let r = store
            .receipt_record(receipt.lookup().as_u32())
            .await
            .unwrap()
            .unwrap();
        store.close().await;
        r
    });
    let id = bisik::crypto::kdf::derive_reporter_identity(
        receipt.secret(),
        &record.kdf_salt,
        &record.kdf,
    )
    .unwrap()
    .classic()
    .clone();
    assert_eq!(id.to_public().to_string(), record.reporter_recipient);
    let path = dir.join("TEST-ONLY-reporter-identity.txt");
    write_identity(&path, &id);
    path
}

fn age_decrypt(identity: &Path, blob: &Path) -> Option<Vec<u8>> {
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .arg(blob)
        .output()
        .expect("the age CLI");
    o.status.success().then_some(o.stdout)
}

fn blobs(fx: &Fixture) -> Vec<PathBuf> {
    all_files(&fx.data_dir().join("blobs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "age"))
        .collect()
}

fn member(base: &str, fx: &Fixture, handle: &str) -> bisik::client::Client {
    let mut c = bisik::client::Client::new(base, fx.identity(handle), None).unwrap();
    c.login().unwrap();
    c
}

#[test]
fn an_officer_answers_with_a_document_from_the_cli_and_the_citizen_downloads_it() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (receipt, case_id) = file_report(&server.base);
    let canary = format!("RAHASIA{}", std::process::id());
    let pdf = pdf_with(&canary);
    // The officer's own folder, apart from the server's data folder.
    let own = tempfile::tempdir().unwrap();
    let doc = own.path().join("jawaban-anggaran.pdf");
    std::fs::write(&doc, &pdf).unwrap();
    let inv = fx.identity_path("health-investigator");

    let (ok, out, err) = case_cli(
        &server.base,
        &inv,
        &[
            "reply",
            &case_id,
            "Terlampir rincian anggaran yang Anda minta.",
            "--attach",
            doc.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(String::from_utf8_lossy(&out).trim(), "sent");

    // The member's view: the file belongs to the message, written by the investigator.
    let (ok, out, err) = case_cli(&server.base, &inv, &["show", &case_id]);
    assert!(ok, "{err}");
    let shown = String::from_utf8_lossy(&out);
    assert!(
        shown.contains("sent with message #1 by member:health/health-investigator")
            && shown.contains("[attached: file #1  jawaban-anggaran.pdf"),
        "{shown}"
    );
    let client = member(&server.base, &fx, "health-investigator");
    let files = client.attachments(&case_id).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].message, Some(1));
    assert_eq!(
        files[0].author.as_deref(),
        Some("member:health/health-investigator")
    );
    assert_eq!(client.case(&case_id).unwrap().messages[0].files, vec![1]);

    // The citizen's status page lists it under the officer's message, with a download form
    // that carries the receipt in its body.
    let page = status_html(&server.base, &receipt);
    assert!(page.contains("Terlampir rincian anggaran"), "{page}");
    assert!(page.contains("jawaban-anggaran.pdf"), "{page}");
    assert!(page.contains("action=\"/status/file?lang=en\""), "{page}");
    assert!(page.contains("name=\"file\" value=\"1\""), "{page}");
    assert!(page.contains("id=\"download-1\""), "{page}");
    let digits: String = receipt.chars().filter(char::is_ascii_digit).collect();
    for attr in ["action=\"", "href=\""] {
        for url in page.split(attr).skip(1) {
            let url = &url[..url.find('"').unwrap()];
            assert!(
                !url.contains(&receipt) && !url.contains(&digits[8..24]),
                "no receipt in a URL: {url}"
            );
        }
    }

    // The download: exactly the bytes, as an attachment nothing renders.
    let a = download(&server.base, &receipt, "1");
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.body, pdf, "the document without its padding");
    assert_eq!(a.header("content-type"), "application/octet-stream");
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    assert_eq!(a.header("cache-control"), "no-store");
    let disposition = a.header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"jawaban-anggaran.pdf\""),
        "{disposition}"
    );

    // A wrong receipt and an unknown one get the very page (and status) of the status form.
    let (wrong, unknown) = wrong_and_unknown(&receipt);
    let on_status = post_citizen(&server.base, "/status?lang=en", &[("receipt", &wrong)]);
    let wrong_dl = download(&server.base, &wrong, "1");
    let unknown_dl = download(&server.base, &unknown, "1");
    assert_eq!(on_status.status, 404);
    assert_eq!(wrong_dl.status, on_status.status);
    assert_eq!(unknown_dl.status, on_status.status);
    assert_eq!(wrong_dl.body, on_status.body, "wrong receipt, same page");
    assert_eq!(
        unknown_dl.body, on_status.body,
        "unknown receipt, same page"
    );
    assert_eq!(wrong_dl.header("content-disposition"), "");
    // The right receipt with no such document (or the citizen's own evidence): not served.
    let none = download(&server.base, &receipt, "7");
    assert_eq!(none.status, 404);
    assert!(none.text().contains("This document is not on your case"));
    let junk = download(&server.base, &receipt, "../1");
    assert_eq!(junk.status, 404);

    // On disk: one blob, opened by the Debian age CLI with a reader's key and with the
    // reporter's; no plaintext canary anywhere in the data folder.
    let blob_list = blobs(&fx);
    assert_eq!(blob_list.len(), 1, "{blob_list:?}");
    let reporter = reporter_identity_file(&fx, &receipt, own.path());
    for identity in [&inv, &reporter] {
        let mut plain = age_decrypt(identity, &blob_list[0]).expect("age opens the blob");
        bisik::crypto::padding::unpad_in_place(&mut plain).unwrap();
        assert_eq!(plain, pdf);
    }
    assert!(
        age_decrypt(&fx.identity_path("transport-investigator"), &blob_list[0]).is_none(),
        "another institution's key does not open it"
    );
    for f in all_files(fx.data_dir()) {
        let bytes = std::fs::read(&f).unwrap();
        for needle in [canary.as_bytes(), b"jawaban-anggaran"] {
            assert!(
                !contains(&bytes, needle),
                "{} holds {:?}",
                f.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }

    // Re-sealed with the case (rekey): still the citizen's to download, still the message's.
    let (ok, _, err) = case_cli(&server.base, &inv, &["rekey", &case_id]);
    assert!(ok, "{err}");
    let a = download(&server.base, &receipt, "1");
    assert_eq!(a.status, 200);
    assert_eq!(a.body, pdf);
    assert_eq!(client.attachments(&case_id).unwrap()[0].message, Some(1));

    let log = server.stop();
    assert!(!log.contains(&canary) && !log.contains("jawaban"), "{log}");
    assert!(!log.contains(&receipt) && !log.contains(&digits), "{log}");
}

#[test]
fn hostile_names_are_inert_and_mis_sealed_uploads_are_refused() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (receipt, case_id) = file_report(&server.base);
    let client = member(&server.base, &fx, "health-investigator");

    // Names an officer's machine could send (the client does not clean them: the citizen's
    // side must).
    let hostile = [
        "../../x".to_owned(),
        "laporan\u{202e}fdp.exe".to_owned(),
        "<script>alert(1)</script>\".pdf".to_owned(),
    ];
    let contents: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("isi dokumen {i}\n").repeat(10).into_bytes())
        .collect();
    let mut readers: Vec<&[u8]> = contents.iter().map(|c| &c[..]).collect();
    let mut files: Vec<bisik::client::OutgoingFile<'_>> = hostile
        .iter()
        .zip(readers.iter_mut())
        .map(|(name, reader)| bisik::client::OutgoingFile {
            name: name.clone(),
            content_type: "text/html".into(),
            reader,
        })
        .collect();
    client
        .reply_with_files(&case_id, "Tiga dokumen.", &mut files)
        .unwrap();

    let page = status_html(&server.base, &receipt);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains('\u{202e}'), "no bidi override on the page");
    assert!(!page.contains("../../x"), "no path on the page");
    for seq in 1..=3 {
        assert!(page.contains(&format!("name=\"file\" value=\"{seq}\"")));
    }
    for (i, bytes) in contents.iter().enumerate() {
        let a = download(&server.base, &receipt, &(i + 1).to_string());
        assert_eq!(a.status, 200);
        assert_eq!(&a.body, bytes);
        // Never rendered: whatever the officer's client claimed, a plain byte stream.
        assert_eq!(a.header("content-type"), "application/octet-stream");
        let d = a.header("content-disposition");
        assert!(d.starts_with("attachment; filename=\""), "{d}");
        assert!(
            !d.contains('/') && !d.contains('\\') && !d.contains('<') && !d.contains(".."),
            "{d}"
        );
        assert!(!d.contains("%E2%80%AE") && !d.contains("%2F"), "{d}");
        let quoted = &d["attachment; filename=\"".len()..];
        assert!(
            quoted[..quoted.find('"').unwrap()]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        );
    }
    assert!(
        download(&server.base, &receipt, "1")
            .header("content-disposition")
            .starts_with("attachment; filename=\"x\"")
    );

    // A blob sealed to fewer recipients than the case has (here: the readers, not the
    // reporter, who could never open it) is refused, and the upload is shredded.
    let token = client.session().unwrap().token.clone();
    let http = loopback_agent();
    let recipients: bisik::api::RecipientsResponse = serde_json::from_str(
        &http
            .get(format!("{}/api/v1/cases/{case_id}/recipients", server.base))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let parse = |t: &String| -> bisik::crypto::keys::Recipient { t.parse().unwrap() };
    let readers_only: Vec<_> = recipients.readers.iter().map(parse).collect();
    let mut everyone = readers_only.clone();
    everyone.push(parse(&recipients.reporter));
    let seal_blob = |to: &[bisik::crypto::keys::Recipient]| {
        let mut s = bisik::crypto::stream::Sealer::new(to, Vec::new()).unwrap();
        s.write_all(b"secret annex").unwrap();
        s.finish().unwrap()
    };
    let upload = |bytes: Vec<u8>| -> String {
        let mut r = http
            .post(format!("{}/api/v1/blobs", server.base))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/octet-stream")
            .send(&bytes[..])
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let up: bisik::api::BlobUploaded =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        up.blob
    };
    let seal = |to: &[bisik::crypto::keys::Recipient], json: &serde_json::Value| {
        bisik::crypto::token::encode(
            &bisik::crypto::envelope::seal(to, json.to_string().as_bytes()).unwrap(),
        )
    };
    let message = seal(
        &everyone,
        &serde_json::json!({"type": "bisik.message", "version": 1,
            "author": "member:health/health-investigator", "body": "Annex", "written_on": "2026-11-23"}),
    );
    let manifest_for = |to: &[bisik::crypto::keys::Recipient]| {
        seal(
            to,
            &serde_json::json!({"type": "bisik.file", "version": 1, "name": "annex.pdf",
                "content_type": "application/pdf", "size": 12, "scrubbed": false}),
        )
    };
    let send_reply = |blob: &str, manifest: &str| -> (u16, String) {
        let mut r = http
            .post(format!("{}/api/v1/cases/{case_id}/messages", server.base))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(
                serde_json::json!({"envelope": message,
                    "files": [{"blob": blob, "manifest": manifest}]})
                .to_string(),
            )
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let before = blobs(&fx).len();
    let short = upload(seal_blob(&readers_only));
    assert_eq!(blobs(&fx).len(), before + 1);
    let (status, body) = send_reply(&short, &manifest_for(&everyone));
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("not sealed to this case"), "{body}");
    assert_eq!(blobs(&fx).len(), before, "the refused upload is shredded");
    // A manifest sealed to the wrong number of recipients: refused too.
    let good_blob = upload(seal_blob(&everyone));
    let (status, body) = send_reply(&good_blob, &manifest_for(&readers_only));
    assert_eq!(status, 422, "{body}");
    // Another case's blob (not a fresh upload of this member's): refused, and left alone.
    let taken = client.attachments(&case_id).unwrap();
    assert_eq!(taken.len(), 3);
    let on_disk = blobs(&fx);
    let existing = on_disk[0].file_stem().unwrap().to_str().unwrap().to_owned();
    let (status, body) = send_reply(&existing, &manifest_for(&everyone));
    assert_eq!(status, 422, "{body}");
    assert!(blobs(&fx).contains(&on_disk[0]));
    // Nothing was added by the refusals; the right upload goes through.
    assert_eq!(client.case(&case_id).unwrap().messages.len(), 1);
    let fresh = upload(seal_blob(&everyone));
    let (status, body) = send_reply(&fresh, &manifest_for(&everyone));
    assert_eq!(status, 200, "{body}");
    let case = client.case(&case_id).unwrap();
    assert_eq!(case.messages.len(), 2);
    assert_eq!(case.messages[1].files, vec![4]);
    let a = download(&server.base, &receipt, "4");
    assert_eq!(a.body, b"secret annex");
}

/// The desk's reply form as a browser sends it: `csrf` first, the message, then the files.
fn desk_reply_body(csrf: &str, message: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write as _;
    let mut b = Vec::new();
    for (k, v) in [("csrf", csrf), ("message", message)] {
        write!(
            b,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    for (name, data) in files {
        write!(
            b,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .unwrap();
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    write!(b, "--{BOUNDARY}--\r\n").unwrap();
    b
}

#[test]
fn the_desk_sends_documents_with_a_reply_and_shows_them_in_the_conversation() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (receipt, case_id) = file_report(&server.base);
    let desk = DeskProcess::start(&server.base, &fx.identity_path("health-investigator"), "en");
    let http = raw();
    let cookie = desk.cookie(&http);
    let get = |path: &str| {
        let (status, headers, body) = desk_get(&http, &desk, &cookie, path);
        Answer {
            status,
            headers,
            body,
        }
    };
    let page = get(&format!("/case/{case_id}")).text();
    assert!(
        page.contains("enctype=\"multipart/form-data\"")
            && page.contains("type=\"file\" id=\"reply-files\" name=\"file\" multiple"),
        "{page}"
    );
    let csrf = input_value(&page, "csrf").unwrap();

    let canary = format!("DESKRAHASIA{}", std::process::id());
    let pdf = pdf_with(&canary);
    let small = b"%PDF-1.4\nlampiran kecil\n%%EOF\n".to_vec();
    let post = |origin: &str, body: Vec<u8>| {
        let r = http
            .post(format!("{}/case/{case_id}/reply", desk.base))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .send(&body[..])
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (r.status().as_u16(), location)
    };
    // The multipart form is held to the same Origin and CSRF checks as every other.
    let (status, _) = post(
        &desk.base,
        desk_reply_body("not-the-token", "forged", &[("a.pdf", &small)]),
    );
    assert_eq!(status, 403);
    let (status, _) = post(
        "http://evil.example",
        desk_reply_body(&csrf, "elsewhere", &[("a.pdf", &small)]),
    );
    assert_eq!(status, 403);
    // An empty file input (no file chosen) sends an empty part: a plain message.
    let (status, location) = post(
        &desk.base,
        desk_reply_body(
            &csrf,
            "Terlampir jawaban kami.",
            &[("jawaban.pdf", &pdf), ("../../x\u{202e}fdp.exe", &small)],
        ),
    );
    assert_eq!(status, 303);
    assert_eq!(location, format!("/case/{case_id}?done=reply"));
    let (status, _) = post(
        &desk.base,
        desk_reply_body(&csrf, "Pesan tanpa berkas.", &[("", b"")]),
    );
    assert_eq!(status, 303);

    // The conversation shows the documents under their message, with download links (the
    // desk's own file route).
    let page = get(&format!("/case/{case_id}")).text();
    assert!(page.contains("class=\"files message-files\""), "{page}");
    assert!(
        page.contains(&format!("href=\"/case/{case_id}/file/1\"")),
        "{page}"
    );
    assert!(
        page.contains("jawaban.pdf") && !page.contains('\u{202e}'),
        "{page}"
    );
    let a = get(&format!("/case/{case_id}/file/1"));
    assert_eq!(a.status, 200);
    assert_eq!(a.body, pdf);
    let client = member(&server.base, &fx, "health-investigator");
    let case = client.case(&case_id).unwrap();
    assert_eq!(case.messages.len(), 2);
    assert_eq!(case.messages[0].files, vec![1, 2]);
    assert!(case.messages[1].files.is_empty());

    // The citizen downloads both from the status page.
    let status_page = status_html(&server.base, &receipt);
    assert!(status_page.contains("jawaban.pdf"), "{status_page}");
    assert!(!status_page.contains('\u{202e}') && !status_page.contains("../../x"));
    assert_eq!(download(&server.base, &receipt, "1").body, pdf);
    let hostile = download(&server.base, &receipt, "2");
    assert_eq!(hostile.body, small);
    let d = hostile.header("content-disposition");
    assert!(d.starts_with("attachment; filename=\"xfdp.exe\""), "{d}");

    // Sealed on the desk's machine: nothing of it in the server's data folder.
    for f in all_files(fx.data_dir()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!contains(&bytes, canary.as_bytes()), "{}", f.display());
        assert!(!contains(&bytes, b"jawaban.pdf"), "{}", f.display());
    }
    let inv = fx.identity_path("health-investigator");
    let opened = blobs(&fx)
        .iter()
        .filter_map(|b| age_decrypt(&inv, b))
        .map(|mut p| {
            bisik::crypto::padding::unpad_in_place(&mut p).unwrap();
            p
        })
        .filter(|p| *p == pdf)
        .count();
    assert_eq!(opened, 1, "the age CLI opens the desk's blob");
}

/// Staff intake carries scanned letters: sealed on the officer's machine, like the report, to
/// the institution's readers and the reporter (the `age` CLI opens the blob with either key and
/// not with another institution's), committed with the case, no plaintext in the data folder.
#[test]
fn staff_intake_carries_scanned_letters_sealed_to_the_readers_and_the_reporter() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let canary = format!("SURATWARGA{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let letter = dir.path().join("surat pengaduan.pdf");
    let bytes = pdf_with(&canary);
    std::fs::write(&letter, &bytes).unwrap();
    let (ok, out, err) = case_cli(
        &server.base,
        &fx.identity_path("desk-triage"),
        &[
            "intake",
            "--channel",
            "post",
            "--kind",
            "complaint",
            "--title",
            "Surat dari warga",
            "--body",
            "Surat terlampir.",
            "--attach",
            letter.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("1 file(s) attached."), "{out}");
    let receipt = out
        .lines()
        .find_map(|l| l.split("keep no copy): ").nth(1))
        .unwrap()
        .trim()
        .to_owned();
    let case_id = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("case ")
                .and_then(|r| r.strip_suffix(" saved."))
        })
        .unwrap()
        .to_owned();

    // The officer's client opens it under its name.
    let c = member(&server.base, &fx, "desk-triage");
    let saved = c
        .save_attachments(&case_id, &dir.path().join("out"))
        .unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].1.name, "surat pengaduan.pdf");
    assert_eq!(std::fs::read(&saved[0].0).unwrap(), bytes);

    // The blob: the reader's and the reporter's keys open it, another institution's does not.
    let stored = blobs(&fx);
    assert_eq!(stored.len(), 1);
    let reporter = reporter_identity_file(&fx, &receipt, dir.path());
    for key in [fx.identity_path("desk-triage"), reporter] {
        let plain = age_decrypt(&key, &stored[0]).expect("opens");
        assert!(plain.starts_with(&bytes));
    }
    assert!(age_decrypt(&fx.identity_path("health-triage"), &stored[0]).is_none());
    for f in all_files(fx.data_dir()) {
        if f.starts_with(dir.path()) || f.extension().is_some_and(|e| e == "pdf") {
            continue;
        }
        let data = std::fs::read(&f).unwrap_or_default();
        assert!(!contains(&data, canary.as_bytes()), "{}", f.display());
        assert!(!contains(&data, b"surat pengaduan"), "{}", f.display());
    }
    server.stop();
}
