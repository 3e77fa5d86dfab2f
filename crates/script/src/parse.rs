//! The packetdrill language as the nplab scripts use it, parsed line by line after `#ifdef`
//! preprocessing. Anything not understood is an error naming the line, never a panic.

use crate::ast::*;
use std::fmt;
use synack_wire::TcpFlags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { line, message: message.into() })
}

/// Parses a whole script; `defines` are the names `-D` set for `#ifdef`.
pub fn parse_script(text: &str, defines: &[String]) -> Result<Script, ParseError> {
    let mut script = Script { options: Vec::new(), events: Vec::new(), dir: None };
    let lines = preprocess(text, defines)?;
    let mut i = 0;
    while i < lines.len() {
        let (line_no, ref line) = lines[i];
        i += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(opt) = trimmed.strip_prefix("--") {
            if !script.events.is_empty() {
                return err(line_no, "an option after the first event");
            }
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
                None => (opt.trim().to_string(), None),
            };
            script.options.push((name, value));
            continue;
        }
        // `%{ ... }%` and a backtick command may run over several lines: gather them.
        let mut text = trimmed.to_string();
        let ends: Option<(LineTest, &str)> = if odd_backticks(&text) {
            Some((odd_backticks, "a command without its closing backtick"))
        } else if text.contains("%{") && !text.contains("}%") {
            Some((|t| t.contains("}%"), "`%{` without a closing `}%`"))
        } else {
            None
        };
        // A call whose arguments run over several lines (`sendmsg(4, {...,\n ...}) = 40`).
        let ends =
            ends.or_else(|| (bracket_depth(&text) > 0).then_some((closes_brackets as LineTest, "unbalanced brackets")));
        let mut depth = bracket_depth(&text);
        if let Some((is_last, unclosed)) = ends {
            loop {
                let Some((_, next)) = lines.get(i) else {
                    return err(line_no, unclosed);
                };
                i += 1;
                text.push('\n');
                text.push_str(next);
                depth += bracket_depth(next);
                if is_last(next) && (depth <= 0 || unclosed != "unbalanced brackets") {
                    break;
                }
            }
        }
        script.events.push(parse_event(line_no, &text)?);
    }
    Ok(script)
}

/// Whether a line ends a construct that runs over several lines.
type LineTest = fn(&str) -> bool;

/// Opening less closing round, square and curly brackets (angle brackets are option lists).
fn bracket_depth(text: &str) -> i32 {
    text.chars()
        .map(|c| match c {
            '(' | '[' | '{' => 1,
            ')' | ']' | '}' => -1,
            _ => 0,
        })
        .sum()
}

/// Any line may close a call's brackets; `bracket_depth` keeps the count.
fn closes_brackets(_: &str) -> bool {
    true
}

/// An odd number of backticks opens (or closes) a command.
fn odd_backticks(text: &str) -> bool {
    text.matches('`').count() % 2 == 1
}

/// Drops comments and the lines `#ifdef` excludes; keeps line numbers.
fn preprocess(text: &str, defines: &[String]) -> Result<Vec<(usize, String)>, ParseError> {
    // Each open `#if` records (taking this branch, some enclosing branch is off).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut out = Vec::new();
    let mut in_block_comment = false;
    // Inside a backtick command that runs over several lines: shell text, kept as it is.
    let mut in_command = false;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        if in_command {
            in_command = !odd_backticks(raw);
            if stack.iter().all(|&(on, _)| on) {
                out.push((line_no, raw.to_string()));
            }
            continue;
        }
        let mut line = String::new();
        let mut rest = raw;
        loop {
            if in_block_comment {
                match rest.find("*/") {
                    Some(end) => {
                        rest = &rest[end + 2..];
                        in_block_comment = false;
                    }
                    None => break,
                }
            } else {
                let slash = rest.find("//");
                let block = rest.find("/*");
                match (slash, block) {
                    (Some(s), b) if b.is_none_or(|b| s < b) => {
                        line.push_str(&rest[..s]);
                        break;
                    }
                    (_, Some(b)) => {
                        line.push_str(&rest[..b]);
                        rest = &rest[b + 2..];
                        in_block_comment = true;
                    }
                    _ => {
                        line.push_str(rest);
                        break;
                    }
                }
            }
        }
        let active = stack.iter().all(|&(on, _)| on);
        let directive = line.trim();
        if let Some(name) = directive.strip_prefix("#ifdef") {
            stack.push((defines.iter().any(|d| d == name.trim()), !active));
            continue;
        }
        if let Some(name) = directive.strip_prefix("#ifndef") {
            stack.push((!defines.iter().any(|d| d == name.trim()), !active));
            continue;
        }
        if directive == "#else" {
            match stack.last_mut() {
                Some(top) => top.0 = !top.0,
                None => return err(line_no, "#else without #ifdef"),
            }
            continue;
        }
        if directive == "#endif" {
            if stack.pop().is_none() {
                return err(line_no, "#endif without #ifdef");
            }
            continue;
        }
        if ["#if", "#elif", "#define", "#undef", "#include"]
            .iter()
            .any(|d| directive.split_whitespace().next() == Some(d))
        {
            return err(line_no, format!("unknown directive `{directive}`"));
        }
        if directive.starts_with('#') {
            continue; // a shell-style comment, as packetdrill's lexer takes it
        }
        in_command = odd_backticks(&line);
        if active {
            out.push((line_no, line));
        }
    }
    if !stack.is_empty() {
        return err(text.lines().count(), "#ifdef without #endif");
    }
    Ok(out)
}

fn parse_event(line: usize, text: &str) -> Result<Event, ParseError> {
    // packetdrill's grammar allows a command without a time before the first event (the
    // setup) and after the last (the cleanup): it runs where it stands.
    let (time, rest) = if text.starts_with('`') {
        (Time::Relative(0), text)
    } else {
        let (time_text, rest) = split_time(text);
        (parse_time(line, &time_text)?, rest.trim_start())
    };
    let icmp = rest.strip_prefix('<').and_then(|p| p.trim_start().strip_prefix("icmp "));
    let action = if let Some(p) = icmp {
        Action::Icmp(parse_icmp(line, p)?)
    } else if let Some(p) = rest.strip_prefix('<') {
        Action::Packet(parse_packet(line, true, p)?)
    } else if let Some(p) = rest.strip_prefix('>') {
        Action::Packet(parse_packet(line, false, p)?)
    } else if let Some(cmd) = rest.strip_prefix('`') {
        // Text after the closing backtick is a shell comment in the scripts, if anything.
        let Some(cmd) = cmd.rfind('`').map(|end| &cmd[..end]) else {
            return err(line, "a command without its closing backtick");
        };
        Action::Command(cmd.to_string())
    } else if let Some(code) = rest.strip_prefix("%{") {
        let Some(code) = code.trim_end().strip_suffix("}%") else {
            return err(line, "`%{` without `}%`");
        };
        Action::Code(crate::code::parse_code(line, code)?)
    } else {
        Action::Call(parse_call(line, rest)?)
    };
    Ok(Event { line, time, action })
}

/// The time at the start of an event, its spaces removed (`+ 0.00`, `+.002 ... 0.004`), and
/// the action after it.
fn split_time(text: &str) -> (String, &str) {
    let text = text.trim_start();
    let end =
        text.find(|c: char| !(c.is_ascii_digit() || c.is_whitespace() || "+-.~*".contains(c))).unwrap_or(text.len());
    // The time ends at the last space before the action (`0.1 < .` has no space to keep).
    let time: String = text[..end].chars().filter(|c| !c.is_whitespace()).collect();
    (time, &text[end..])
}

fn split_first_token(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    }
}

/// Seconds with up to six decimals, to microseconds.
fn parse_seconds(line: usize, s: &str) -> Result<i64, ParseError> {
    let bad = || ParseError { line, message: format!("bad time `{s}`") };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 6 {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let frac_us: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().map_err(|_| bad())? };
    let us = whole.checked_mul(1_000_000).and_then(|w| w.checked_add(frac_us)).ok_or_else(bad)?;
    Ok(if neg { -us } else { us })
}

fn parse_time(line: usize, token: &str) -> Result<Time, ParseError> {
    if token == "*" {
        return Ok(Time::Any);
    }
    if token.is_empty() {
        return err(line, "an event without a time (want 0.1, +0.1, *, a~b or a...b before it)");
    }
    // A blocking call: `start...end`, both from the same base (packetdrill's `+0...0.1`).
    if let Some((a, b)) = token.split_once("...") {
        let (start, end, relative) = interval(line, token, a, b, "blocking time")?;
        return Ok(Time::Blocking { start, end, relative });
    }
    if let Some((a, b)) = token.split_once('~') {
        let (start, end, relative) = interval(line, token, a, b, "time range")?;
        return Ok(Time::Range { start, end, relative });
    }
    match token.strip_prefix('+') {
        Some(rel) => Ok(Time::Relative(parse_seconds(line, rel)?)),
        None => Ok(Time::Absolute(parse_seconds(line, token)?)),
    }
}

/// The two ends of `a~b` or `a...b` in microseconds, and whether they are relative (`+a`).
fn interval(line: usize, token: &str, a: &str, b: &str, what: &str) -> Result<(i64, i64, bool), ParseError> {
    let relative = a.starts_with('+');
    let start = parse_seconds(line, a.trim_start_matches('+'))?;
    let end = parse_seconds(line, b.trim_start_matches('+'))?;
    if end < start {
        return err(line, format!("{what} `{token}` ends before it starts"));
    }
    Ok((start, end, relative))
}

fn parse_flags(line: usize, token: &str) -> Result<TcpFlags, ParseError> {
    if token == "-" {
        return Ok(TcpFlags::NONE); // packetdrill's "no flags at all"
    }
    let mut bits = 0u8;
    for c in token.chars() {
        bits |= match c {
            'F' => TcpFlags::FIN.bits(),
            'S' => TcpFlags::SYN.bits(),
            'R' => TcpFlags::RST.bits(),
            'P' => TcpFlags::PSH.bits(),
            '.' => TcpFlags::ACK.bits(),
            'U' => TcpFlags::URG.bits(),
            'E' => TcpFlags::ECE.bits(),
            'W' => TcpFlags::CWR.bits(),
            _ => return err(line, format!("unknown TCP flag `{c}` in `{token}`")),
        };
    }
    Ok(TcpFlags::from_bits_retain(bits))
}

fn parse_u32(line: usize, what: &str, s: &str) -> Result<u32, ParseError> {
    parse_int(s).and_then(|v| u32::try_from(v).ok()).ok_or(ParseError { line, message: format!("bad {what} `{s}`") })
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if neg { -v } else { v })
}

fn parse_seq(line: usize, token: &str) -> Result<SeqSpec, ParseError> {
    let bad = || ParseError { line, message: format!("bad sequence range `{token}` (want start:end(len))") };
    let open = token.find('(').ok_or_else(bad)?;
    let len_text = token[open + 1..].strip_suffix(')').ok_or_else(bad)?;
    let len = parse_u32(line, "length", len_text)?;
    let range = &token[..open];
    if range == "..." {
        return Ok(SeqSpec::Any { len });
    }
    let (start, end) = range.split_once(':').ok_or_else(bad)?;
    let start = parse_u32(line, "sequence number", start)?;
    let end = parse_u32(line, "sequence number", end)?;
    if end.wrapping_sub(start) != len {
        return err(line, format!("`{token}`: end - start is not the length"));
    }
    Ok(SeqSpec::Range { start, end, len })
}

/// `TYPE CODE [mtu N] [seq:end(len)]` after `< icmp`.
fn parse_icmp(line: usize, text: &str) -> Result<IcmpSpec, ParseError> {
    let (head, quoted) = match text.split_once('[') {
        Some((head, q)) => (head, Some(q.trim_end().strip_suffix(']').unwrap_or(q))),
        None => (text, None),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let (icmp_type, code, mtu) = match words.as_slice() {
        [t] => (t, &"0", None),
        [t, "mtu", m] => (t, &"0", Some(parse_u32(line, "MTU", m)?)),
        [t, c] => (t, c, None),
        [t, c, "mtu", m] => (t, c, Some(parse_u32(line, "MTU", m)?)),
        _ => return err(line, format!("want `icmp TYPE CODE [mtu N] [seq:end(len)]`, not `icmp {}`", text.trim())),
    };
    let seq = match quoted.map(|q| parse_seq(line, q.trim())).transpose()? {
        Some(SeqSpec::Range { start, .. }) => start,
        _ => 0,
    };
    Ok(IcmpSpec { icmp_type: icmp_type.to_string(), code: code.to_string(), mtu, seq })
}

fn parse_packet(line: usize, inbound: bool, text: &str) -> Result<PacketSpec, ParseError> {
    let mut rest = text.trim_start();
    let mut ecn = None;
    if let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']').ok_or(ParseError { line, message: "`[` without `]`".into() })?;
        ecn = Some(r[..close].trim().to_string());
        rest = r[close + 1..].trim_start();
    }
    let mut ip_field = None;
    if let Some(r) = rest.strip_prefix('(') {
        let close = r.find(')').ok_or(ParseError { line, message: "`(` without `)`".into() })?;
        let words: Vec<&str> = r[..close].split_whitespace().collect();
        ip_field = match words.as_slice() {
            [name @ ("ttl" | "tos" | "hlim" | "class"), value] => {
                Some((name.to_string(), parse_u32(line, name, value)?))
            }
            _ => return err(line, format!("unknown IP field `({})`", &r[..close])),
        };
        rest = r[close + 1..].trim_start();
    }
    // `/udp(src > dst)`: UDP encapsulation, written after the window.
    let mut udp_ports = None;
    let owned;
    if let Some(at) = rest.find("/udp(") {
        let close =
            rest[at..].find(')').map(|c| at + c).ok_or(ParseError { line, message: "`/udp(` without `)`".into() })?;
        let ports: Vec<&str> = rest[at + 5..close].split('>').map(str::trim).collect();
        udp_ports = match ports.as_slice() {
            [a, b] => Some((parse_u32(line, "UDP port", a)? as u16, parse_u32(line, "UDP port", b)? as u16)),
            _ => return err(line, "want `/udp(SRC > DST)`"),
        };
        owned = format!("{}{}", &rest[..at], &rest[close + 1..]);
        rest = owned.as_str();
    }
    // The option list goes last and may hold spaces: cut it off first.
    let (head, options) = match rest.find('<') {
        Some(at) => {
            let list = rest[at + 1..].trim_end();
            let Some(list) = list.strip_suffix('>') else {
                return err(line, "an option list without its closing `>`");
            };
            (&rest[..at], Some(parse_options(line, list)?))
        }
        None => (rest, None),
    };
    let mut tokens = head.split_whitespace();
    let flags = parse_flags(line, tokens.next().ok_or(ParseError { line, message: "a packet without flags".into() })?)?;
    let seq_token = tokens.next().ok_or(ParseError { line, message: "a packet without sequence".into() })?;
    let (seq_token, absolute_seq) = match seq_token.strip_suffix('!') {
        Some(t) => (t, true),
        None => (seq_token, false),
    };
    let seq = parse_seq(line, seq_token)?;
    let (mut ack, mut window, mut urgent) = (None, None, None);
    while let Some(key) = tokens.next() {
        let value = tokens.next().ok_or(ParseError { line, message: format!("`{key}` without a value") })?;
        match key {
            "ack" => ack = Some(parse_u32(line, "ack", value)?),
            "win" => {
                window = Some(
                    u16::try_from(parse_u32(line, "window", value)?)
                        .map_err(|_| ParseError { line, message: format!("window `{value}` does not fit 16 bits") })?,
                )
            }
            "urg" => urgent = Some(parse_u32(line, "urgent pointer", value)? as u16),
            _ => return err(line, format!("unknown packet field `{key}`")),
        }
    }
    // `ack N` without the `.` flag is allowed: the field is set, the bit is not (a test of
    // how a stack treats a stray acknowledgment number).
    Ok(PacketSpec { inbound, ecn, flags, seq, ack, window, urgent, options, ip_field, udp_ports, absolute_seq })
}

fn parse_options(line: usize, list: &str) -> Result<Option<Vec<OptSpec>>, ParseError> {
    if list.trim() == "..." {
        return Ok(None);
    }
    let mut out = Vec::new();
    for item in list.split(',') {
        let words: Vec<&str> = item.split_whitespace().collect();
        let num = |i: usize, what: &str| -> Result<u32, ParseError> {
            parse_u32(line, what, words.get(i).copied().unwrap_or(""))
        };
        let opt = match words.first().copied() {
            Some("nop") => OptSpec::Nop,
            Some("eol") => OptSpec::Eol,
            Some("sackOK") => OptSpec::SackPermitted,
            Some("mss") => OptSpec::Mss(u16::try_from(num(1, "mss")?).map_err(|_| bad_opt(line, item))?),
            Some("wscale") => OptSpec::WindowScale(u8::try_from(num(1, "wscale")?).map_err(|_| bad_opt(line, item))?),
            Some("TS") if words.len() == 5 && words[1] == "val" && words[3] == "ecr" => {
                OptSpec::Timestamp { val: num(2, "TS val")?, ecr: num(4, "TS ecr")? }
            }
            Some("md5") if words.len() == 2 && ["valid", "invalid"].contains(&words[1]) => {
                OptSpec::Md5 { valid: words[1] == "valid" }
            }
            Some("sack") => {
                let mut blocks = [(0, 0); 4];
                let mut n = 0u8;
                for block in &words[1..] {
                    let (l, r) = block.split_once(':').ok_or_else(|| bad_opt(line, item))?;
                    if n == 4 {
                        return err(line, "more than four SACK blocks");
                    }
                    blocks[n as usize] = (parse_u32(line, "SACK edge", l)?, parse_u32(line, "SACK edge", r)?);
                    n += 1;
                }
                OptSpec::Sack(blocks, n)
            }
            _ => return Err(bad_opt(line, item)),
        };
        out.push(opt);
    }
    Ok(Some(out))
}

fn bad_opt(line: usize, item: &str) -> ParseError {
    ParseError { line, message: format!("unknown TCP option `{}`", item.trim()) }
}

/// `name(args) = result [ERRNO [(text)]]`, or `name(args) = value (comment)`.
fn parse_call(line: usize, text: &str) -> Result<Call, ParseError> {
    let open = text.find('(').ok_or(ParseError { line, message: format!("cannot parse `{}`", text.trim()) })?;
    let name = text[..open].trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return err(line, format!("cannot parse `{}`", text.trim()));
    }
    let close = matching_paren(&text[open..]).ok_or(ParseError { line, message: "unbalanced parentheses".into() })?;
    let args_text = &text[open + 1..open + close];
    let args = split_top_level(args_text).into_iter().map(|a| parse_arg(a.trim())).collect::<Vec<_>>();
    let after = text[open + close + 1..].trim();
    let Some(result_text) = after.strip_prefix('=') else {
        return err(line, format!("`{name}(...)` without `= result`"));
    };
    let (result_token, tail) = split_first_token(result_text);
    let result = parse_int(result_token).ok_or(ParseError { line, message: format!("bad result `{result_token}`") })?;
    let tail = tail.trim();
    let errno = match tail.chars().next() {
        Some(c) if c.is_ascii_uppercase() => Some(split_first_token(tail).0.to_string()),
        _ => None,
    };
    Ok(Call { name, args, result, errno })
}

/// The index of the `)` that closes the `(` at the start of `text`.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level(text: &str) -> Vec<&str> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

fn parse_arg(text: &str) -> Arg {
    if text == "..." {
        return Arg::Elided;
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Arg::Bracketed(Box::new(parse_arg(inner.trim())));
    }
    if let Some(v) = parse_int(text) {
        return Arg::Int(v);
    }
    let symbols: Vec<String> = text.split('|').map(|s| s.trim().to_string()).collect();
    if symbols.iter().all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
        return Arg::Symbols(symbols);
    }
    Arg::Other(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Event {
        let s = parse_script(text, &[]).unwrap();
        assert_eq!(s.events.len(), 1, "{s:?}");
        s.events[0].clone()
    }

    #[test]
    fn packet_lines_parse_with_every_field() {
        let e = one("+0.10 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK, eol,eol>");
        assert_eq!(e.time, Time::Relative(100_000));
        let Action::Packet(p) = e.action else { panic!() };
        assert!(p.inbound);
        assert_eq!(p.flags, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(p.seq, SeqSpec::Range { start: 0, end: 0, len: 0 });
        assert_eq!((p.ack, p.window), (Some(1), Some(32767)));
        let opts = vec![OptSpec::Mss(1460), OptSpec::SackPermitted, OptSpec::Eol, OptSpec::Eol];
        assert_eq!(p.options, Some(Some(opts)));
    }

    #[test]
    fn elided_sequence_and_unchecked_options() {
        let Action::Packet(p) = one("* > S. ...(0) ack 9 <...>").action else { panic!() };
        assert_eq!(p.seq, SeqSpec::Any { len: 0 });
        assert_eq!(p.options, Some(None));
        assert_eq!(p.window, None);
    }

    #[test]
    fn calls_with_errno_and_comment() {
        let Action::Call(c) = one("0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)").action else {
            panic!()
        };
        assert_eq!((c.name.as_str(), c.result, c.errno.as_deref()), ("connect", -1, Some("EINPROGRESS")));
        let Action::Call(c) = one("+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0").action else { panic!() };
        assert_eq!(c.args[2], Arg::Symbols(vec!["O_RDWR".into(), "O_NONBLOCK".into()]));
        let Action::Call(c) = one("+0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)").action else { panic!() };
        assert_eq!((c.result, c.errno), (2, None));
        let Action::Call(c) = one("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0").action else {
            panic!()
        };
        assert_eq!(c.args[3].symbol(), Some("ECONNRESET"));
    }

    #[test]
    fn ifdef_selects_branches() {
        let text = "0 `a`\n#ifdef STANDARD\n+0 `b`\n#else\n+0 `c`\n#endif\n";
        let with = parse_script(text, &["STANDARD".into()]).unwrap();
        let without = parse_script(text, &[]).unwrap();
        assert_eq!(with.events[1].action, Action::Command("b".into()));
        assert_eq!(without.events[1].action, Action::Command("c".into()));
    }

    #[test]
    fn asserts_and_ranges() {
        let e = one("+0.00 %{ assert tcpi_state == TCPI_LISTEN }%");
        let Action::Code(stmts) = e.action else { panic!("{e:?}") };
        assert!(matches!(&stmts[..], [crate::code::Stmt::Assert { text, .. }] if text == "tcpi_state == TCPI_LISTEN"));
        assert_eq!(
            one("+.1...0.2 read(4, ..., 1) = 1").time,
            Time::Blocking { start: 100_000, end: 200_000, relative: true }
        );
        assert_eq!(
            one("+.002 ... 0.004 connect(4, ..., ...) = 0").time,
            Time::Blocking { start: 2_000, end: 4_000, relative: true }
        );
        assert_eq!(one("+ 0.00 close(3) = 0").time, Time::Relative(0));
        assert_eq!(one("`../common/defaults.sh\nsysctl -q a=1`").time, Time::Relative(0));
        assert_eq!(one("0.1~0.2 `x`").time, Time::Range { start: 100_000, end: 200_000, relative: false });
    }

    #[test]
    fn an_event_without_a_time_says_so() {
        let e = parse_script("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\nclose(3) = 0\n", &[]).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("without a time"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_script("--ip_version=ipv4\n\n0 < Q 0:0(0) win 1\n", &[]).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("flag"), "{e}");
        assert_eq!(parse_script("0 < S 0:1(0) win 1", &[]).unwrap_err().line, 1);
        assert!(parse_script("#ifdef X\n", &[]).is_err());
        assert!(parse_script("0 frob", &[]).is_err());
    }
}
