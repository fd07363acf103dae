//! The status page in a real browser: headless Chromium loads it, the rendered DOM shows both spans,
//! and a screenshot is kept in `target/e2e/status-page.png` for people to look at.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use spangate_tests::{root, Daemon, Scratch};

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install the Debian package `chromium` (cargo xtask test does it)"
    );
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[test]
fn status_page_renders_in_headless_chromium() {
    let d = Daemon::start(&[]);
    d.wait_for("two spans up", Duration::from_secs(20), |s| {
        s["spans"].as_array().is_some_and(|a| a.len() == 2 && a.iter().all(|x| x["up"] == true))
    });
    let scratch = Scratch::new("browser");
    let url = format!("http://{}/", d.addr);

    let dom = chromium(&scratch.path("profile-dom"), &["--dump-dom"], &url);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&dom.stderr));
    for needle in
        [r#"id="span-1""#, r#"id="span-2""#, "Span 1: provider", "Span 2: pbx", r#"id="clock-source">span 1<"#]
    {
        assert!(html.contains(needle), "rendered DOM lacks {needle}:\n{html}");
    }

    let out_dir = root().join("target/e2e");
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let r = chromium(&scratch.path("profile-shot"), &[&format!("--screenshot={}", shot.display())], &url);
    assert!(r.status.success(), "chromium --screenshot failed: {}", String::from_utf8_lossy(&r.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert!(png.len() > 10_000, "screenshot suspiciously small ({} bytes)", png.len());
}
