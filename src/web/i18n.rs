//! Bahasa Indonesia (default) and English. Every citizen-facing sentence lives here, so a
//! missing translation is a compile error, not a blank on the page.

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;

use crate::domain::case::{CHANNELS, CaseState, Kind, Privacy};
use crate::domain::institution::Role;
use crate::domain::report::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Id => Lang::En,
            Lang::En => Lang::Id,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Id => &ID,
            Lang::En => &EN,
        }
    }

    pub fn is_en(self) -> bool {
        self == Lang::En
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        match s {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `?lang=` wins; then the first of `id`/`en` in `Accept-Language` by weight; then `id`.
    pub fn from_parts(parts: &Parts) -> Lang {
        let from_query = parts.uri.query().and_then(|q| {
            form_urlencoded_pairs(q)
                .find_map(|(k, v)| (k == "lang").then(|| Lang::from_code(&v)).flatten())
        });
        from_query
            .or_else(|| {
                parts
                    .headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(from_accept_language)
            })
            .unwrap_or_default()
    }
}

fn form_urlencoded_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap_or_default()
        .into_iter()
}

/// Picks `id` or `en` from an `Accept-Language` header, honouring q-values.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        // "in" is the pre-1989 code for Indonesian, still sent by some old systems.
        let lang = match primary {
            "id" | "in" => Lang::Id,
            "en" => Lang::En,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}

/// Every sentence a citizen can see.
#[derive(Debug)]
pub struct Texts {
    pub site_name: &'static str,
    pub tagline: &'static str,
    pub switch_to: &'static str,
    pub nav_home: &'static str,
    pub nav_report: &'static str,
    pub nav_status: &'static str,
    pub nav_stats: &'static str,
    pub footer: &'static str,

    pub home_intro: &'static str,
    pub home_safety_title: &'static str,
    pub home_safety: &'static [&'static str],
    pub home_start: &'static str,
    pub home_check: &'static str,

    pub form_title: &'static str,
    pub form_intro: &'static str,
    pub form_errors_summary: &'static str,
    pub kind_label: &'static str,
    pub kind_hint: &'static str,
    pub institution_label: &'static str,
    pub institution_desk: &'static str,
    pub institution_hint: &'static str,
    pub category_label: &'static str,
    pub category_none: &'static str,
    pub title_label: &'static str,
    pub body_label: &'static str,
    pub body_hint: &'static str,
    pub occurred_label: &'static str,
    pub occurred_hint: &'static str,
    pub location_label: &'static str,
    pub location_hint: &'static str,
    pub privacy_label: &'static str,
    pub privacy_anonymous: &'static str,
    pub privacy_anonymous_explain: &'static str,
    pub privacy_confidential: &'static str,
    pub privacy_confidential_explain: &'static str,
    pub identity_legend: &'static str,
    pub identity_name_label: &'static str,
    pub identity_contact_label: &'static str,
    pub identity_hint: &'static str,
    pub err_file_too_large: &'static str,
    pub err_report_too_large: &'static str,
    pub err_too_many_files: &'static str,
    pub err_upload_interrupted: &'static str,
    pub attachment_label: &'static str,
    pub attachment_hint: &'static str,
    pub attachment_warning: &'static str,
    pub keep_metadata_label: &'static str,
    pub cannot_attach: &'static str,
    pub no_files_chosen: &'static str,
    pub files_added: &'static str,
    pub add_files_title: &'static str,
    pub add_files_submit: &'static str,
    pub concerns_label: &'static str,
    pub concerns_hint: &'static str,
    pub optional: &'static str,
    pub max_chars: &'static str,
    pub submit: &'static str,
    pub submit_hint: &'static str,
    pub not_saved_retry: &'static str,

    pub receipt_title: &'static str,
    pub receipt_intro: &'static str,
    pub receipt_case: &'static str,
    pub receipt_advice_title: &'static str,
    pub receipt_advice: &'static [&'static str],
    pub receipt_next: &'static str,

    pub status_title: &'static str,
    pub status_intro: &'static str,
    pub receipt_label: &'static str,
    pub receipt_hint: &'static str,
    pub status_submit: &'static str,
    pub status_not_found: &'static str,
    pub receipt_empty: &'static str,
    pub receipt_bad_char: &'static str,
    pub receipt_too_short: &'static str,
    pub receipt_too_long: &'static str,
    pub case_number: &'static str,
    pub current_state: &'static str,
    pub history_title: &'static str,
    pub history_day: &'static str,
    pub history_who: &'static str,
    pub history_what: &'static str,
    pub your_report: &'static str,
    pub your_identity: &'static str,
    pub your_identity_explain: &'static str,
    /// "Held by the identity custodians of {institution}."
    pub identity_held_by: &'static str,
    pub identity_not_revealed: &'static str,
    /// "Revealed to an officer of {institution} on {day}."
    pub identity_revealed_to: &'static str,
    pub own_files_title: &'static str,
    pub own_files_scrubbed: &'static str,
    pub own_files_as_sent: &'static str,
    pub own_files_added: &'static str,
    pub messages_title: &'static str,
    pub no_messages: &'static str,
    pub you: &'static str,
    pub officer_of: &'static str,
    pub reply_label: &'static str,
    pub reply_submit: &'static str,
    pub reply_saved: &'static str,
    pub reply_not_saved: &'static str,
    pub message_files_label: &'static str,
    pub download_file: &'static str,
    pub file_not_found: &'static str,
    pub leave_hint: &'static str,

    pub stats_title: &'static str,
    pub stats_intro: &'static str,
    pub stats_state: &'static str,
    pub stats_count: &'static str,
    pub stats_empty: &'static str,

    pub error_title: &'static str,
    pub error_back: &'static str,
    pub err_not_found: &'static str,
    pub err_too_large: &'static str,
    pub err_timeout: &'static str,
    pub err_cross_site: &'static str,
    pub err_method: &'static str,
    pub err_busy: &'static str,
    pub err_bad_request: &'static str,
    pub err_internal: &'static str,
    pub err_unsupported_type: &'static str,

    pub problem_required: &'static str,
    pub problem_too_long: &'static str,
    pub problem_not_an_option: &'static str,
    pub problem_invalid_date: &'static str,
    pub problem_date_in_future: &'static str,
    pub problem_identity_while_anonymous: &'static str,
    pub problem_control_characters: &'static str,

    pub kinds: [&'static str; 4],
    pub kind_explain: [&'static str; 4],
    pub states: [&'static str; 10],
    pub privacy_names: [&'static str; 2],
    /// triage, investigator, custodian, oversight
    pub role_names: [&'static str; 4],
    pub question_title: &'static str,
    pub question_answer_hint: &'static str,
    pub automatic: &'static str,
    pub due_label: &'static str,
    pub overdue_label: &'static str,
    pub closes_label: &'static str,
    pub extended_by: &'static str,
    pub escalate_title: &'static str,
    pub escalate_explain: &'static str,
    pub escalate_submit: &'static str,
    pub escalated_notice: &'static str,
    pub cannot_escalate: &'static str,
    /// Shown in place of an item the reporter's key does not open.
    pub unreadable_item: &'static str,
    /// Notice above a case holding such items.
    pub unreadable_notice: &'static str,
    /// After an escalation that could not carry some items.
    pub not_escalated_notice: &'static str,
    pub forwarded_to: &'static str,
    /// History: the oversight body wrote a recommendation to the institution / to the citizen.
    pub act_recommendation: &'static str,
    pub act_oversight_message: &'static str,
    pub reveals_title: &'static str,
    pub reveals_explain: &'static str,
    pub reveal_pending: &'static str,
    pub reveal_approved: &'static str,
    pub reveal_denied: &'static str,
    pub reveal_requested_on: &'static str,
    pub reveal_decided_on: &'static str,
    pub reveal_opens_on: &'static str,
    pub stats_total: &'static str,
    pub stats_on_time: &'static str,
    pub stats_median: &'static str,
    pub stats_too_few: &'static str,
    /// state, institution, kind, category, channel
    pub stats_dimensions: [&'static str; 5],
    /// web, phone, post, complaint_box, counter, fax, sms, email
    pub channels: [&'static str; 8],
    /// A 25-digit receipt whose check digit does not match: answered without looking anything
    /// up, so it must not hint whether a report exists.
    pub receipt_mistyped: &'static str,
    pub verdict_title: &'static str,
    pub verdict_explain: &'static str,
    pub verdict_rating_label: &'static str,
    pub verdict_rating_none: &'static str,
    pub verdict_comment_label: &'static str,
    pub verdict_resolved_submit: &'static str,
    pub verdict_reason_label: &'static str,
    pub verdict_not_resolved_submit: &'static str,
    pub verdict_reason_needed: &'static str,
    pub verdict_closed_notice: &'static str,
    pub verdict_reopened_notice: &'static str,
    pub verdict_refused: &'static str,
    pub reopen_title: &'static str,
    pub reopen_explain: &'static str,
    pub reopen_reason_label: &'static str,
    pub reopen_submit: &'static str,
    pub closed_for_good: &'static str,
    pub new_report_link: &'static str,
    pub your_rating: &'static str,
    pub reply_closed: &'static str,
    pub stats_ratings_title: &'static str,
    pub stats_ratings_count: &'static str,
    pub stats_ratings_average: &'static str,
    pub stats_ratings_none: &'static str,
    /// The date field's placeholder: the same format its hint names.
    pub occurred_placeholder: &'static str,
    /// Files of a report form that came back to be corrected, kept sealed (issue 13 item 4).
    pub held_title: &'static str,
    pub held_explain: &'static str,
    /// The checkbox beside each held file.
    pub held_remove: &'static str,
    /// Beside the file input when files are held.
    pub held_add_more: &'static str,
    /// The form named held files that are not there (expired, or the page was not this one).
    pub held_missing: &'static str,
}

impl Texts {
    pub fn kind(&self, k: Kind) -> &'static str {
        self.kinds[Kind::ALL.iter().position(|x| *x == k).unwrap_or(0)]
    }

    pub fn kind_explanation(&self, k: Kind) -> &'static str {
        self.kind_explain[Kind::ALL.iter().position(|x| *x == k).unwrap_or(0)]
    }

    pub fn state(&self, s: CaseState) -> &'static str {
        self.states[CaseState::ALL.iter().position(|x| *x == s).unwrap_or(0)]
    }

    pub fn privacy(&self, p: Privacy) -> &'static str {
        self.privacy_names[Privacy::ALL.iter().position(|x| *x == p).unwrap_or(0)]
    }

    pub fn role(&self, r: Role) -> &'static str {
        match r {
            Role::Triage => self.role_names[0],
            Role::Investigator => self.role_names[1],
            Role::Custodian => self.role_names[2],
            Role::Oversight => self.role_names[3],
        }
    }

    pub fn stats_dimension(&self, d: &str) -> &'static str {
        let i = ["state", "institution", "kind", "category", "channel"]
            .iter()
            .position(|x| *x == d)
            .unwrap_or(0);
        self.stats_dimensions[i]
    }

    pub fn channel(&self, c: &str) -> &'static str {
        CHANNELS
            .iter()
            .position(|x| *x == c)
            .map_or("?", |i| self.channels[i])
    }

    pub fn problem(&self, p: Problem) -> String {
        match p {
            Problem::Required => self.problem_required.into(),
            Problem::TooLong { max } => self.problem_too_long.replace("{max}", &max.to_string()),
            Problem::NotAnOption => self.problem_not_an_option.into(),
            Problem::InvalidDate => self.problem_invalid_date.into(),
            Problem::DateInFuture => self.problem_date_in_future.into(),
            Problem::IdentityWhileAnonymous => self.problem_identity_while_anonymous.into(),
            Problem::ControlCharacters => self.problem_control_characters.into(),
        }
    }

    /// A label without its "required" star.
    pub fn plain<'a>(&self, label: &'a str) -> &'a str {
        label.trim_end_matches(" *")
    }

    pub fn max(&self, n: &usize) -> String {
        self.max_chars.replace("{max}", &n.to_string())
    }
}

pub static ID: Texts = Texts {
    site_name: "Bisik",
    tagline: "Layanan pengaduan dan pelaporan pelanggaran yang aman",
    switch_to: "English",
    nav_home: "Beranda",
    nav_report: "Buat laporan",
    nav_status: "Cek status",
    nav_stats: "Statistik",
    footer: "Laporan Anda dienkripsi sebelum disimpan. Salinan yang tersimpan hanya dapat dibaca oleh petugas yang berhak.",

    home_intro: "Sampaikan aspirasi, pengaduan, permintaan informasi, atau laporan pelanggaran. \
        Laporan Anda diteruskan ke instansi yang berwenang, dan hanya petugas yang berhak yang dapat membacanya.",
    home_safety_title: "Sebelum mulai",
    home_safety: &[
        "Gunakan Tor Browser jika Anda khawatir diawasi. Situs ini bekerja tanpa JavaScript.",
        "Jangan gunakan perangkat kantor atau jaringan kantor untuk melapor tentang kantor Anda.",
        "Anda tidak perlu akun, e-mail, atau nomor telepon. Anda akan menerima kode tanda terima rahasia.",
        "Tidak ada alamat IP atau data peramban yang dicatat.",
    ],
    home_start: "Buat laporan",
    home_check: "Cek status laporan dengan kode tanda terima",

    form_title: "Buat laporan",
    form_intro: "Isi formulir di bawah ini. Kolom bertanda * wajib diisi. Semua yang Anda tulis dienkripsi sebelum disimpan.",
    form_errors_summary: "Laporan belum dikirim. Periksa kolom yang ditandai di bawah ini; isian Anda tidak hilang.",
    kind_label: "Jenis laporan *",
    kind_hint: "Pilih yang paling sesuai.",
    institution_label: "Instansi tujuan",
    institution_desk: "Biarkan petugas penerima yang menentukan",
    institution_hint: "Tidak yakin? Biarkan petugas penerima meneruskannya ke instansi yang berwenang.",
    category_label: "Kategori",
    category_none: "Tidak tahu / lainnya",
    title_label: "Judul laporan *",
    body_label: "Isi laporan *",
    body_hint: "Apa yang terjadi, siapa yang terlibat, sejak kapan. Jangan tulis hal yang hanya Anda yang tahu jika itu dapat mengungkap siapa Anda.",
    occurred_label: "Tanggal kejadian",
    occurred_hint: "Format TTTT-BB-HH, misalnya 2026-11-01.",
    location_label: "Lokasi kejadian",
    location_hint: "Misalnya kota, kecamatan, atau nama kantor.",
    privacy_label: "Kerahasiaan *",
    privacy_anonymous: "Anonim",
    privacy_anonymous_explain: "Kami tidak menanyakan dan tidak menyimpan siapa Anda. Petugas tidak dapat menghubungi Anda kecuali lewat halaman status. Anda hanya dapat mengikuti laporan dengan kode tanda terima.",
    privacy_confidential: "Rahasia",
    privacy_confidential_explain: "Anda memberi nama dan kontak, tetapi identitas itu disegel terpisah dari laporan. Hanya petugas penjaga identitas di instansi tujuan yang dapat membukanya; petugas yang menangani laporan tidak dapat.",
    identity_legend: "Identitas Anda (hanya jika memilih Rahasia)",
    identity_name_label: "Nama",
    identity_contact_label: "Kontak (telepon, e-mail, atau alamat)",
    identity_hint: "Kosongkan kolom ini jika Anda memilih Anonim.",
    err_file_too_large: "Sebuah berkas melebihi batas ukuran yang tertulis di formulir. Laporan BELUM tersimpan; isian Anda masih ada. Pilih berkas lagi (yang lebih kecil) lalu kirim.",
    err_report_too_large: "Kiriman Anda melebihi batas ukuran total. Laporan BELUM tersimpan; isian Anda masih ada. Kirim lebih sedikit berkas.",
    err_too_many_files: "Terlalu banyak berkas. Laporan BELUM tersimpan; isian Anda masih ada. Pilih lebih sedikit berkas lalu kirim.",
    err_upload_interrupted: "Pengiriman terputus. Laporan BELUM tersimpan; isian Anda masih ada. Pilih berkas lagi lalu kirim.",
    attachment_label: "Berkas bukti",
    attachment_hint: "Paling banyak {files} berkas, masing-masing {file} MB, total {total} MB. Berkas dienkripsi saat diterima.",
    attachment_warning: "Berkas dapat memuat data tersembunyi tentang pembuatnya (misalnya lokasi GPS atau nama penulis). Data seperti itu dihapus dari foto JPEG dan PNG; berkas lain disimpan apa adanya.",
    keep_metadata_label: "Simpan foto apa adanya (jangan hapus data tersembunyi)",
    cannot_attach: "Berkas tidak dapat ditambahkan ke laporan yang sudah selesai.",
    no_files_chosen: "Tidak ada berkas yang dipilih.",
    files_added: "Berkas Anda telah dienkripsi dan tersimpan pada laporan Anda.",
    add_files_title: "Tambahkan berkas bukti",
    add_files_submit: "Kirim berkas",
    concerns_label: "Orang atau unit yang dilaporkan",
    concerns_hint: "Jika Anda menyebut siapa yang Anda laporkan, petugas penerima dapat menjauhkan mereka (dan rekan dekatnya) dari laporan ini.",
    optional: "tidak wajib",
    max_chars: "paling banyak {max} karakter",
    submit: "Kirim laporan",
    submit_hint: "Setelah terkirim, Anda akan melihat kode tanda terima. Hanya kode itu yang dapat membuka laporan Anda.",
    not_saved_retry: "Laporan Anda BELUM tersimpan karena gangguan di server. Isian Anda masih ada di bawah. Silakan kirim lagi.",

    receipt_title: "Laporan Anda telah tersimpan",
    receipt_intro: "Ini kode tanda terima Anda. Catat sekarang: kode ini hanya ditampilkan sekali.",
    receipt_case: "Nomor laporan",
    receipt_advice_title: "Jaga kode ini",
    receipt_advice: &[
        "Tulis di kertas dan simpan di tempat aman. Jangan simpan di perangkat yang dipakai bersama atau di penyimpanan awan.",
        "Siapa pun yang memegang kode ini dapat membaca laporan Anda dan membalas atas nama Anda.",
        "Tidak ada yang dapat memulihkan kode yang hilang, termasuk kami.",
        "Petugas tidak akan pernah meminta kode ini. Jangan berikan kepada siapa pun.",
    ],
    receipt_next: "Gunakan kode ini di halaman Cek status untuk melihat tanggapan dan membalas.",

    status_title: "Cek status laporan",
    status_intro: "Masukkan kode tanda terima 25 angka (kode lama: 24 angka). Spasi dan tanda hubung boleh dipakai.",
    receipt_label: "Kode tanda terima",
    receipt_hint: "Contoh: 12345-67890-12345-67890-12346",
    status_submit: "Buka laporan",
    status_not_found: "Kode ini tidak membuka laporan apa pun. Periksa kembali setiap angka.",
    receipt_empty: "Masukkan kode tanda terima Anda.",
    receipt_bad_char: "Kode tanda terima hanya berisi angka (spasi dan tanda hubung boleh).",
    receipt_too_short: "Kode ini terlalu pendek: kode tanda terima terdiri dari 25 angka (kode lama: 24 angka).",
    receipt_too_long: "Kode ini terlalu panjang: kode tanda terima terdiri dari 25 angka (kode lama: 24 angka).",
    case_number: "Nomor laporan",
    current_state: "Status saat ini",
    history_title: "Riwayat",
    history_day: "Tanggal",
    history_who: "Oleh",
    history_what: "Status",
    your_report: "Laporan Anda",
    your_identity: "Identitas Anda (disegel)",
    your_identity_explain: "Hanya petugas penjaga identitas di instansi tujuan yang dapat membuka ini.",
    identity_held_by: "Disimpan tersegel oleh petugas penjaga identitas {institution}.",
    identity_not_revealed: "Belum pernah dibuka untuk siapa pun.",
    identity_revealed_to: "Dibuka untuk seorang petugas {institution} pada {day}.",
    own_files_title: "Berkas yang Anda kirim",
    own_files_scrubbed: "metadata foto dihapus",
    own_files_as_sent: "disimpan apa adanya",
    own_files_added: "dikirim",
    messages_title: "Percakapan",
    no_messages: "Belum ada pesan.",
    you: "Anda",
    officer_of: "Petugas",
    reply_label: "Tulis pesan atau tambahan keterangan",
    reply_submit: "Kirim pesan",
    reply_saved: "Pesan Anda telah tersimpan.",
    reply_not_saved: "Pesan Anda BELUM tersimpan karena gangguan di server. Isinya masih ada di kotak pesan. Silakan kirim lagi.",
    message_files_label: "Dokumen terlampir",
    download_file: "Unduh",
    file_not_found: "Dokumen ini tidak ada pada laporan Anda atau tidak dapat dibuka dengan kode Anda.",
    leave_hint: "Setelah selesai, tutup tab ini. Kode tanda terima ada di halaman ini selama tab terbuka.",

    stats_title: "Statistik",
    stats_intro: "Jumlah laporan menurut status, instansi, jenis, kategori dan saluran. Angka di bawah 5 ditampilkan sebagai \"<5\" agar tidak ada pelapor yang dapat dikenali.",
    stats_state: "Status",
    stats_count: "Jumlah",
    stats_empty: "Belum ada laporan.",

    error_title: "Ada masalah",
    error_back: "Kembali ke beranda",
    err_not_found: "Halaman ini tidak ada.",
    err_too_large: "Kiriman Anda terlalu besar dan tidak disimpan. Kembali ke halaman sebelumnya (biasanya isian Anda masih ada), persingkat, atau bagi menjadi dua laporan.",
    err_timeout: "Permintaan terlalu lama dan dihentikan. Tidak ada yang tersimpan. Silakan coba lagi.",
    err_cross_site: "Formulir ini dikirim dari situs lain, jadi demi keamanan Anda tidak diterima. Buka formulir langsung di situs ini dan kirim lagi.",
    err_method: "Cara permintaan ini tidak didukung.",
    err_busy: "Layanan sedang sangat sibuk. Tidak ada yang tersimpan. Tunggu satu atau dua menit, lalu coba lagi.",
    err_bad_request: "Permintaan tidak dapat dibaca. Tidak ada yang tersimpan. Kembali ke formulir dan coba lagi.",
    err_internal: "Terjadi gangguan di server. Tidak ada yang tersimpan. Silakan coba lagi sebentar lagi.",
    err_unsupported_type: "Formulir dikirim dalam bentuk yang tidak dikenali. Tidak ada yang tersimpan. Kembali ke formulir dan coba lagi.",

    problem_required: "Wajib diisi.",
    problem_too_long: "Terlalu panjang: paling banyak {max} karakter.",
    problem_not_an_option: "Pilih salah satu pilihan yang tersedia.",
    problem_invalid_date: "Tanggal tidak dikenali. Gunakan format TTTT-BB-HH.",
    problem_date_in_future: "Tanggal ini belum terjadi.",
    problem_identity_while_anonymous: "Anda memilih Anonim tetapi mengisi identitas. Kosongkan kolom ini, atau pilih Rahasia.",
    problem_control_characters: "Kolom ini berisi karakter kontrol yang tidak terlihat (misalnya dari teks yang disalin dari terminal) atau baris baru di kolom satu baris. Kosongkan kolom ini lalu ketik ulang.",

    kinds: [
        "Aspirasi",
        "Pengaduan",
        "Permintaan informasi",
        "Pelaporan pelanggaran (whistleblowing)",
    ],
    kind_explain: [
        "Usulan atau saran untuk perbaikan layanan publik.",
        "Layanan publik yang buruk, lambat, atau tidak diberikan.",
        "Permintaan informasi publik dari instansi.",
        "Korupsi, pungutan liar, penyalahgunaan wewenang, atau pelanggaran lain oleh pejabat.",
    ],
    states: [
        "Diterima",
        "Diverifikasi",
        "Ditunda (perlu keterangan dari Anda)",
        "Diarsipkan",
        "Bukan kewenangan instansi ini",
        "Diteruskan (disposisi)",
        "Sedang ditindaklanjuti",
        "Dijawab",
        "Selesai",
        "Dieskalasi ke Ombudsman",
    ],
    privacy_names: ["Anonim", "Rahasia"],
    role_names: [
        "Petugas verifikasi",
        "Petugas tindak lanjut",
        "Penjaga identitas",
        "Pengawas",
    ],
    question_title: "Petugas membutuhkan keterangan dari Anda",
    question_answer_hint: "Jawab dengan formulir pesan di bawah. Setelah Anda menjawab, laporan kembali diperiksa.",
    automatic: "Otomatis",
    due_label: "Batas waktu tahap ini",
    overdue_label: "Terlambat sejak",
    closes_label: "Ditutup otomatis jika Anda tidak membalas sampai",
    extended_by: "Batas waktu diperpanjang {days} hari kerja",
    escalate_title: "Laporan Anda terlambat ditangani",
    escalate_explain: "Anda dapat meminta Ombudsman ikut mengawasi laporan ini. Ombudsman akan dapat membaca laporan dan percakapan ini, tetapi tidak identitas Anda.",
    escalate_submit: "Minta Ombudsman mengawasi",
    escalated_notice: "Ombudsman sekarang ikut mengawasi laporan Anda.",
    cannot_escalate: "Laporan ini tidak dapat dieskalasi sekarang (belum terlambat, sudah dieskalasi, atau sudah selesai).",
    unreadable_item: "[Pesan ini tidak dapat dibuka dengan kode Anda. Petugas telah diberi tahu.]",
    unreadable_notice: "Sebagian isi kasus ini tidak dapat dibuka dengan kode Anda. Petugas yang menangani telah diberi tahu; bagian lainnya tetap dapat Anda baca dan balas.",
    not_escalated_notice: "Ombudsman sekarang ikut mengawasi laporan Anda, tetapi {count} bagian yang tidak dapat dibuka dengan kode Anda tidak dapat diteruskan kepadanya.",
    forwarded_to: "Diteruskan ke {institution}",
    act_recommendation: "Ombudsman menulis rekomendasi kepada instansi",
    act_oversight_message: "Ombudsman menulis kepada Anda",
    reveals_title: "Permintaan membuka identitas Anda",
    reveals_explain: "Seorang petugas meminta untuk mengetahui siapa Anda. Hanya petugas penjaga identitas yang dapat memutuskan, dan setiap permintaan ditampilkan di sini.",
    reveal_pending: "Menunggu keputusan",
    reveal_approved: "Disetujui",
    reveal_denied: "Ditolak",
    reveal_requested_on: "Diminta",
    reveal_decided_on: "Diputuskan",
    reveal_opens_on: "Identitas dibuka untuk peminta sejak",
    stats_total: "Jumlah laporan",
    stats_on_time: "Dijawab tepat waktu",
    stats_median: "Median hari kerja sampai jawaban pertama",
    stats_too_few: "terlalu sedikit untuk ditampilkan",
    stats_dimensions: [
        "Menurut status",
        "Menurut instansi",
        "Menurut jenis",
        "Menurut kategori",
        "Menurut saluran",
    ],
    channels: [
        "Situs web",
        "Telepon",
        "Pos",
        "Kotak pengaduan",
        "Loket",
        "Faks",
        "SMS",
        "E-mail",
    ],
    receipt_mistyped: "Kode ini ada salah ketik: satu angka keliru atau dua angka tertukar. Periksa lagi kode di kertas Anda dan ketik ulang.",
    verdict_title: "Apakah jawaban ini menyelesaikan laporan Anda?",
    verdict_explain: "Beri tahu kami apakah masalahnya sudah selesai. Pesan biasa tidak menutup atau membuka kembali laporan.",
    verdict_rating_label: "Seberapa puas Anda dengan jawabannya? (1 = tidak puas, 5 = sangat puas)",
    verdict_rating_none: "Tanpa penilaian",
    verdict_comment_label: "Komentar (tidak wajib)",
    verdict_resolved_submit: "Selesai — tutup laporan",
    verdict_reason_label: "Belum selesai — beri tahu kami alasannya",
    verdict_not_resolved_submit: "Belum selesai — buka kembali laporan",
    verdict_reason_needed: "Tuliskan alasannya: kotak ini masih kosong.",
    verdict_closed_notice: "Terima kasih. Laporan Anda telah ditutup.",
    verdict_reopened_notice: "Laporan Anda dibuka kembali; alasan Anda telah dikirim kepada petugas.",
    verdict_refused: "Hal ini tidak dapat dilakukan lagi pada laporan ini.",
    reopen_title: "Buka kembali laporan ini",
    reopen_explain: "Laporan ini sudah ditutup. Sampai {day} Anda masih dapat membukanya kembali jika masalahnya belum selesai; tuliskan alasannya.",
    reopen_reason_label: "Mengapa laporan ini perlu dibuka kembali?",
    reopen_submit: "Buka kembali laporan",
    closed_for_good: "Laporan ini sudah ditutup dan tidak menerima pesan lagi. Jika masalahnya berlanjut, buat laporan baru dan sebutkan nomor laporan {case} di dalamnya.",
    new_report_link: "Buat laporan baru",
    your_rating: "Penilaian Anda atas jawaban",
    reply_closed: "Laporan ini sudah ditutup: pesan Anda tidak dikirim dan tidak disimpan.",
    stats_ratings_title: "Penilaian warga atas jawaban",
    stats_ratings_count: "Jumlah penilaian",
    stats_ratings_average: "Rata-rata (1–5)",
    stats_ratings_none: "Belum ada penilaian.",
    occurred_placeholder: "TTTT-BB-HH",
    held_title: "Berkas yang sudah diterima",
    held_explain: "Berkas ini sudah kami terima dan disimpan terenkripsi; Anda tidak perlu memilihnya lagi. Berkas ini dilampirkan pada laporan saat Anda mengirimnya. Jika laporan tidak dikirim, berkas ini dihapus otomatis setelah satu atau dua hari.",
    held_remove: "Hapus berkas ini",
    held_add_more: "Pilih berkas di sini hanya jika Anda ingin menambahkan berkas lain.",
    held_missing: "Berkas yang Anda kirim sebelumnya tidak dapat ditemukan (mungkin sudah dihapus). Laporan BELUM tersimpan; isian Anda masih ada. Pilih berkas itu lagi lalu kirim.",
};

pub static EN: Texts = Texts {
    site_name: "Bisik",
    tagline: "A safe service for complaints and whistleblowing",
    switch_to: "Bahasa Indonesia",
    nav_home: "Home",
    nav_report: "Make a report",
    nav_status: "Check status",
    nav_stats: "Statistics",
    footer: "Your report is encrypted before it is stored. The stored copy can be read only by the officers entitled to it.",

    home_intro: "Send an aspiration, a complaint, a request for information, or a whistleblowing report. \
        It is passed to the institution with authority, and only the officers entitled to it can read it.",
    home_safety_title: "Before you start",
    home_safety: &[
        "Use Tor Browser if you worry about being watched. This site works without JavaScript.",
        "Do not use a work device or work network to report about your workplace.",
        "You need no account, e-mail or phone number. You will get a secret receipt code.",
        "No IP address or browser data is recorded.",
    ],
    home_start: "Make a report",
    home_check: "Check a report's status with your receipt code",

    form_title: "Make a report",
    form_intro: "Fill in the form below. Fields marked * are required. Everything you write is encrypted before it is stored.",
    form_errors_summary: "Your report was not sent yet. Please check the fields marked below; nothing you typed was lost.",
    kind_label: "Type of report *",
    kind_hint: "Choose the one that fits best.",
    institution_label: "Institution",
    institution_desk: "Let the intake desk decide",
    institution_hint: "Not sure? The intake desk will forward it to the institution with authority.",
    category_label: "Category",
    category_none: "Don't know / other",
    title_label: "Title *",
    body_label: "Your report *",
    body_hint: "What happened, who was involved, since when. Leave out details only you could know if they would reveal who you are.",
    occurred_label: "Date it happened",
    occurred_hint: "Format YYYY-MM-DD, for example 2026-11-01.",
    location_label: "Where it happened",
    location_hint: "For example a city, district, or office name.",
    privacy_label: "Privacy *",
    privacy_anonymous: "Anonymous",
    privacy_anonymous_explain: "We do not ask who you are and store nothing about you. Officers cannot contact you except through the status page. You follow the report only with your receipt code.",
    privacy_confidential: "Confidential",
    privacy_confidential_explain: "You give your name and a contact, but they are sealed apart from the report. Only the identity custodians of the receiving institution can open them; the officers handling the report cannot.",
    identity_legend: "Your identity (only if you chose Confidential)",
    identity_name_label: "Name",
    identity_contact_label: "Contact (phone, e-mail or address)",
    identity_hint: "Leave these empty if you chose Anonymous.",
    err_file_too_large: "A file is larger than the limit stated on the form. Your report was NOT saved; everything you typed is still here. Choose the files again (smaller ones) and send.",
    err_report_too_large: "What you sent is larger than the total limit. Your report was NOT saved; everything you typed is still here. Send fewer files.",
    err_too_many_files: "Too many files. Your report was NOT saved; everything you typed is still here. Choose fewer files and send.",
    err_upload_interrupted: "The upload was interrupted. Your report was NOT saved; everything you typed is still here. Choose the files again and send.",
    attachment_label: "Evidence files",
    attachment_hint: "At most {files} files, {file} MB each, {total} MB in all. Files are encrypted as they arrive.",
    attachment_warning: "Files can carry hidden data about their author (for example GPS location or the author's name). Such data is removed from JPEG and PNG photos; other files are stored as they are.",
    keep_metadata_label: "Keep photos exactly as they are (do not remove hidden data)",
    cannot_attach: "Files cannot be added to a finished report.",
    no_files_chosen: "No file was chosen.",
    files_added: "Your files are encrypted and saved with your report.",
    add_files_title: "Add evidence files",
    add_files_submit: "Send files",
    concerns_label: "People or units the report concerns",
    concerns_hint: "If you name who you are reporting, the intake officers can keep them (and those close to them) away from this report.",
    optional: "optional",
    max_chars: "at most {max} characters",
    submit: "Send report",
    submit_hint: "After sending you will see a receipt code. Only that code opens your report.",
    not_saved_retry: "Your report was NOT saved because of a problem on the server. Everything you typed is still below. Please send it again.",

    receipt_title: "Your report is saved",
    receipt_intro: "This is your receipt code. Write it down now: it is shown only once.",
    receipt_case: "Case number",
    receipt_advice_title: "Keep this code safe",
    receipt_advice: &[
        "Write it on paper and keep it somewhere safe. Do not keep it on a shared device or in cloud storage.",
        "Anyone holding this code can read your report and reply in your name.",
        "Nobody can recover a lost code, not even us.",
        "Officers will never ask you for this code. Do not give it to anyone.",
    ],
    receipt_next: "Use this code on the Check status page to see answers and to reply.",

    status_title: "Check a report's status",
    status_intro: "Enter your 25-digit receipt code (older codes: 24 digits). Spaces and dashes are fine.",
    receipt_label: "Receipt code",
    receipt_hint: "Example: 12345-67890-12345-67890-12346",
    status_submit: "Open report",
    status_not_found: "This code does not open any report. Please check every digit.",
    receipt_empty: "Please enter your receipt code.",
    receipt_bad_char: "A receipt code contains only digits (spaces and dashes are fine).",
    receipt_too_short: "This code is too short: a receipt code has 25 digits (older codes: 24).",
    receipt_too_long: "This code is too long: a receipt code has 25 digits (older codes: 24).",
    case_number: "Case number",
    current_state: "Current status",
    history_title: "History",
    history_day: "Date",
    history_who: "By",
    history_what: "Status",
    your_report: "Your report",
    your_identity: "Your identity (sealed)",
    your_identity_explain: "Only the identity custodians of the receiving institution can open this.",
    identity_held_by: "Kept sealed by the identity custodians of {institution}.",
    identity_not_revealed: "It has not been revealed to anyone.",
    identity_revealed_to: "Revealed to an officer of {institution} on {day}.",
    own_files_title: "Files you sent",
    own_files_scrubbed: "photo metadata removed",
    own_files_as_sent: "kept as sent",
    own_files_added: "sent",
    messages_title: "Conversation",
    no_messages: "No messages yet.",
    you: "You",
    officer_of: "Officer",
    reply_label: "Write a message or add information",
    reply_submit: "Send message",
    reply_saved: "Your message is saved.",
    reply_not_saved: "Your message was NOT saved because of a problem on the server. It is still in the message box. Please send it again.",
    message_files_label: "Attached documents",
    download_file: "Download",
    file_not_found: "This document is not on your case, or it cannot be opened with your code.",
    leave_hint: "When you are done, close this tab. The receipt code is in this page for as long as the tab is open.",

    stats_title: "Statistics",
    stats_intro: "Reports by status, institution, type, category and channel. Numbers below 5 are shown as \"<5\" so that no reporter can be singled out.",
    stats_state: "Status",
    stats_count: "Count",
    stats_empty: "No reports yet.",

    error_title: "Something is wrong",
    error_back: "Back to the home page",
    err_not_found: "This page does not exist.",
    err_too_large: "What you sent is too large and was not saved. Go back to the previous page (your browser usually still has your text), shorten it, or split it into two reports.",
    err_timeout: "The request took too long and was stopped. Nothing was saved. Please try again.",
    err_cross_site: "This form was sent from another site, so for your safety it was not accepted. Open the form on this site and send it again.",
    err_method: "This kind of request is not supported.",
    err_busy: "The service is very busy right now. Nothing was saved. Please wait a minute or two and try again.",
    err_bad_request: "The request could not be read. Nothing was saved. Go back to the form and try again.",
    err_internal: "Something went wrong on the server. Nothing was saved. Please try again shortly.",
    err_unsupported_type: "The form arrived in a format this site does not accept. Nothing was saved. Go back to the form and try again.",

    problem_required: "This is required.",
    problem_too_long: "Too long: at most {max} characters.",
    problem_not_an_option: "Please choose one of the options.",
    problem_invalid_date: "This date is not recognised. Use the format YYYY-MM-DD.",
    problem_date_in_future: "This date has not happened yet.",
    problem_identity_while_anonymous: "You chose Anonymous but filled in your identity. Empty this field, or choose Confidential.",
    problem_control_characters: "This field holds invisible control characters (for example from text copied out of a terminal) or a line break in a one-line field. Empty it and type it again.",

    kinds: [
        "Aspiration",
        "Complaint",
        "Request for information",
        "Whistleblowing",
    ],
    kind_explain: [
        "A proposal or suggestion to improve a public service.",
        "A public service that was bad, slow, or not given.",
        "A request for public information from an institution.",
        "Corruption, illegal levies, abuse of power or other wrongdoing by officials.",
    ],
    states: [
        "Received",
        "Verified",
        "On hold (needs information from you)",
        "Archived",
        "Not this institution's authority",
        "Forwarded",
        "In progress",
        "Answered",
        "Closed",
        "Escalated to the Ombudsman",
    ],
    privacy_names: ["Anonymous", "Confidential"],
    role_names: [
        "Intake officer",
        "Investigating officer",
        "Identity custodian",
        "Oversight officer",
    ],
    question_title: "The officers need information from you",
    question_answer_hint: "Answer with the message form below. Once you answer, the report is looked at again.",
    automatic: "Automatic",
    due_label: "Due for this stage by",
    overdue_label: "Overdue since",
    closes_label: "Closes automatically if you do not reply by",
    extended_by: "Deadline extended by {days} working days",
    escalate_title: "Your report is overdue",
    escalate_explain: "You can ask the Ombudsman to follow this report. The Ombudsman will be able to read the report and this conversation, but not your identity.",
    escalate_submit: "Ask the Ombudsman to follow it",
    escalated_notice: "The Ombudsman now follows your report too.",
    cannot_escalate: "This report cannot be escalated now (it is not overdue, already escalated, or finished).",
    unreadable_item: "[This item could not be opened with your code. The officers have been told.]",
    unreadable_notice: "Part of this case could not be opened with your code. The officers handling it have been told; you can still read and answer everything else.",
    not_escalated_notice: "The Ombudsman now follows your report too, but {count} item(s) that could not be opened with your code could not be passed on.",
    forwarded_to: "Forwarded to {institution}",
    act_recommendation: "The Ombudsman wrote a recommendation to the institution",
    act_oversight_message: "The Ombudsman wrote to you",
    reveals_title: "Requests to reveal your identity",
    reveals_explain: "An officer asked to know who you are. Only the identity custodians can decide, and every request is shown here.",
    reveal_pending: "Waiting for a decision",
    reveal_approved: "Approved",
    reveal_denied: "Denied",
    reveal_requested_on: "Requested",
    reveal_decided_on: "Decided",
    reveal_opens_on: "Identity opened to the requester from",
    stats_total: "Reports",
    stats_on_time: "Answered on time",
    stats_median: "Median working days to a first answer",
    stats_too_few: "too few to show",
    stats_dimensions: [
        "By status",
        "By institution",
        "By type",
        "By category",
        "By channel",
    ],
    channels: [
        "Website",
        "Phone",
        "Post",
        "Complaint box",
        "Counter",
        "Fax",
        "SMS",
        "E-mail",
    ],
    receipt_mistyped: "This code has a typing mistake: a digit is wrong or two digits are swapped. Check the code on your paper and type it again.",
    verdict_title: "Did this answer resolve your report?",
    verdict_explain: "Tell us whether the matter is settled. A plain message does not close or reopen the report.",
    verdict_rating_label: "How satisfied are you with the answer? (1 = not at all, 5 = very)",
    verdict_rating_none: "No rating",
    verdict_comment_label: "Comment (optional)",
    verdict_resolved_submit: "Resolved — close the report",
    verdict_reason_label: "Not resolved — tell us why",
    verdict_not_resolved_submit: "Not resolved — reopen the report",
    verdict_reason_needed: "Please say why: the box is empty.",
    verdict_closed_notice: "Thank you. Your report is closed.",
    verdict_reopened_notice: "Your report has been reopened; your reason was sent to the officers.",
    verdict_refused: "This can no longer be done on this report.",
    reopen_title: "Reopen this report",
    reopen_explain: "This report is closed. Until {day} you may still reopen it if the matter is not settled; say why.",
    reopen_reason_label: "Why should this report be reopened?",
    reopen_submit: "Reopen the report",
    closed_for_good: "This report is closed and takes no more messages. If the matter continues, file a new report and mention report number {case} in it.",
    new_report_link: "File a new report",
    your_rating: "Your rating of the answer",
    reply_closed: "This report is closed: your message was not sent and not stored.",
    stats_ratings_title: "Citizens’ ratings of the answers",
    stats_ratings_count: "Ratings",
    stats_ratings_average: "Average (1–5)",
    stats_ratings_none: "No ratings yet.",
    occurred_placeholder: "YYYY-MM-DD",
    held_title: "Files already received",
    held_explain: "We have already received these files and keep them encrypted: you do not need to choose them again. They are attached to your report when you send it. If the report is not sent, they are deleted automatically after a day or two.",
    held_remove: "Remove this file",
    held_add_more: "Choose files here only if you want to add more.",
    held_missing: "The files you sent earlier could not be found (they may have been deleted). Your report was NOT saved; everything you typed is still here. Please choose those files again and send.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_weights() {
        assert_eq!(from_accept_language("en-US,en;q=0.5"), Some(Lang::En));
        assert_eq!(
            from_accept_language("id-ID,id;q=0.9,en;q=0.8"),
            Some(Lang::Id)
        );
        assert_eq!(
            from_accept_language("fr, en;q=0.3, id;q=0.7"),
            Some(Lang::Id)
        );
        assert_eq!(from_accept_language("de"), None);
        assert_eq!(from_accept_language("en;q=0"), None);
    }

    #[test]
    fn every_state_and_kind_has_words() {
        assert_eq!(ID.states.len(), CaseState::ALL.len());
        assert_eq!(EN.kinds.len(), Kind::ALL.len());
        assert_eq!(EN.state(CaseState::Escalated), "Escalated to the Ombudsman");
    }
}
