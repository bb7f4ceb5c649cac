// Reference for crates.io versions: semver::Version::parse, ordered by precedence (build metadata cleared).
// Protocol: see ref_apt.py.
use std::io::{self, BufRead, Write};

fn decode(field: &str) -> String {
    let hex = &field[1..];
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    String::from_utf8(bytes).expect("utf-8")
}

fn parse(text: &str) -> Option<semver::Version> {
    let mut version = semver::Version::parse(text).ok()?;
    version.build = semver::BuildMetadata::EMPTY;
    Some(version)
}

fn main() {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout());
    for line in stdin.lock().lines() {
        let line = line.expect("line");
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() != 2 {
            continue;
        }
        let result = match (parse(&decode(fields[0])), parse(&decode(fields[1]))) {
            (None, _) => "EA".to_string(),
            (_, None) => "EB".to_string(),
            (Some(a), Some(b)) => (a.cmp(&b) as i32).to_string(),
        };
        writeln!(out, "{}", result).expect("write");
    }
}
