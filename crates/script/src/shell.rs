//! The shell text of a backtick command, as far as the scripts use it: lines (with `\`
//! continuations), `#` comments, `;` and `&&` between commands, quotes, redirections and
//! `$((...))` arithmetic. Nothing is executed; each simple command comes back as its words
//! for `commands` to interpret. A pipeline stays one command (`sockstat ... | grep -c X`).

/// The simple commands of `text`, each as its words, redirections left out.
pub fn simple_commands(text: &str) -> Vec<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        let mut in_word = false;
        let mut quote: Option<char> = None;
        let mut chars = line.chars().peekable();
        let end_word = |words: &mut Vec<String>, word: &mut String, in_word: &mut bool| {
            if *in_word {
                words.push(std::mem::take(word));
                *in_word = false;
            }
        };
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some('"'), '$') if chars.peek() == Some(&'(') => word.push_str(&arithmetic(&mut chars)),
                (Some(_), c) => word.push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    in_word = true;
                }
                (None, '$') if chars.peek() == Some(&'(') => {
                    word.push_str(&arithmetic(&mut chars));
                    in_word = true;
                }
                (None, '#') if !in_word => break,
                (None, ';') => {
                    end_word(&mut words, &mut word, &mut in_word);
                    push_command(&mut out, &mut words);
                }
                (None, '&') if chars.peek() == Some(&'&') => {
                    chars.next();
                    end_word(&mut words, &mut word, &mut in_word);
                    push_command(&mut out, &mut words);
                }
                (None, c) if c.is_whitespace() => end_word(&mut words, &mut word, &mut in_word),
                (None, c) => {
                    word.push(c);
                    in_word = true;
                }
            }
        }
        end_word(&mut words, &mut word, &mut in_word);
        push_command(&mut out, &mut words);
    }
    out
}

/// Ends a command: its redirections (`> FILE`, `2>&1`, `>/dev/null`, `< FILE`) are dropped.
fn push_command(out: &mut Vec<Vec<String>>, words: &mut Vec<String>) {
    let mut kept = Vec::new();
    let mut skip_next = false;
    for w in words.drain(..) {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let body = w.trim_start_matches(|c: char| c.is_ascii_digit());
        if body.starts_with('>') || body.starts_with('<') {
            // `>` alone takes the next word as its file; `>FILE` and `>&1` carry it.
            skip_next = matches!(body, ">" | ">>" | "<");
            continue;
        }
        kept.push(w);
    }
    if !kept.is_empty() {
        out.push(kept);
    }
}

/// `$((expr))` (the `$` already read): its integer value as text, or the text itself when it
/// is not arithmetic the runner understands (a `$(command)` or `${VAR}`).
fn arithmetic(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut text = String::from("$");
    let mut depth = 0;
    for c in chars.by_ref() {
        text.push(c);
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    match text.strip_prefix("$((").and_then(|t| t.strip_suffix("))")).and_then(eval) {
        Some(v) => v.to_string(),
        None => text,
    }
}

/// Integer `+ - * / %` with parentheses, as shell arithmetic; None on anything else or an
/// overflow.
fn eval(expr: &str) -> Option<i64> {
    let tokens: Vec<char> = expr.chars().filter(|c| !c.is_whitespace()).collect();
    let mut at = 0;
    let v = sum(&tokens, &mut at)?;
    (at == tokens.len()).then_some(v)
}

fn sum(t: &[char], at: &mut usize) -> Option<i64> {
    let mut v = product(t, at)?;
    while let Some(&op @ ('+' | '-')) = t.get(*at) {
        *at += 1;
        let r = product(t, at)?;
        v = if op == '+' { v.checked_add(r)? } else { v.checked_sub(r)? };
    }
    Some(v)
}

fn product(t: &[char], at: &mut usize) -> Option<i64> {
    let mut v = atom(t, at)?;
    while let Some(&op @ ('*' | '/' | '%')) = t.get(*at) {
        *at += 1;
        let r = atom(t, at)?;
        v = match op {
            '*' => v.checked_mul(r)?,
            '/' => v.checked_div(r)?,
            _ => v.checked_rem(r)?,
        };
    }
    Some(v)
}

fn atom(t: &[char], at: &mut usize) -> Option<i64> {
    match t.get(*at)? {
        '(' => {
            *at += 1;
            let v = sum(t, at)?;
            (t.get(*at) == Some(&')')).then(|| *at += 1)?;
            Some(v)
        }
        '-' => {
            *at += 1;
            atom(t, at)?.checked_neg()
        }
        c if c.is_ascii_digit() => {
            let start = *at;
            while t.get(*at).is_some_and(|c| c.is_ascii_digit()) {
                *at += 1;
            }
            t[start..*at].iter().collect::<String>().parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        simple_commands(text)
    }

    #[test]
    fn quotes_arithmetic_and_redirections_as_defaults_sh_writes_them() {
        let c = words("sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\n");
        assert_eq!(c, [["sysctl", "-q", "net.ipv4.tcp_rmem=4096 540000 15728640"]]);
        let c = words("ip tcp_metrics flush all > /dev/null 2>&1");
        assert_eq!(c, [["ip", "tcp_metrics", "flush", "all"]]);
        let c = words("sysctl -q net.ipv4.tcp_notsent_lowat=4294967295 > /dev/null 2>&1");
        assert_eq!(c, [["sysctl", "-q", "net.ipv4.tcp_notsent_lowat=4294967295"]]);
        let c = words("echo 3 > /sys/module/tcp_cubic/parameters/hystart_detect");
        assert_eq!(c, [["echo", "3"]]);
    }

    #[test]
    fn lines_continuations_comments_and_separators() {
        let text = "../common/defaults.sh\n# Disable TLP:\nsysctl -q a=1 # why\n\
                    x.py /proc/sys/a=1 \\\n   /proc/sys/b=2\ntc qdisc delete dev tun0 root 2>/dev/null ; tc qdisc add dev tun0";
        let c = words(text);
        assert_eq!(c.len(), 5, "{c:?}");
        assert_eq!(c[0], ["../common/defaults.sh"]);
        assert_eq!(c[1], ["sysctl", "-q", "a=1"]);
        assert_eq!(c[2], ["x.py", "/proc/sys/a=1", "/proc/sys/b=2"]);
        assert_eq!(c[3], ["tc", "qdisc", "delete", "dev", "tun0", "root"]);
        assert_eq!(c[4], ["tc", "qdisc", "add", "dev", "tun0"]);
        assert_eq!(words("a && b"), [["a"], ["b"]]);
        assert_eq!(words("sockstat -p 80 | grep -c X"), [["sockstat", "-p", "80", "|", "grep", "-c", "X"]]);
    }

    #[test]
    fn arithmetic_that_is_not_understood_stays_as_written() {
        assert_eq!(words("/tmp/r_${PPID}.sh"), [["/tmp/r_${PPID}.sh"]]);
        assert_eq!(words("echo $((1/0)) $((2+3*(4-1))) $(date)"), [["echo", "$((1/0))", "11", "$(date)"]]);
        assert_eq!(eval("9223372036854775807+1"), None);
        assert_eq!(eval("-(3)%2"), Some(-1));
    }
}
