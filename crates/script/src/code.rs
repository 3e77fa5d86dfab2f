//! `%{ ... }%` blocks: packetdrill runs them as Python with the socket's `tcp_info` fields
//! as variables. The scripts use a small part of it, which is what this module reads and
//! evaluates: `assert EXPR[, message]`, `NAME = EXPR`, and `print(...)` (no effect), with
//! integer arithmetic, bitwise `| & ^ << >>`, comparisons (chained as Python chains them),
//! `and`/`or`/`not`, parentheses, names and decimal or hex numbers.

use crate::parse::ParseError;
use std::collections::HashMap;

/// One statement of a code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    /// `assert EXPR[, message]`, with its text for messages.
    Assert { expr: Expr, text: String },
    /// `NAME = EXPR`.
    Assign { name: String, expr: Expr },
    /// `print(...)`: output only.
    Print,
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Int(i64),
    Name(String),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(Box<Expr>, Op, Box<Expr>),
    /// `a < b <= c`: each pair holds.
    Compare(Box<Expr>, Vec<(Op, Expr)>),
}

/// Binary and comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Or,
    And,
    BitOr,
    BitXor,
    BitAnd,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Reads a block's statements: lines joined at a trailing `\`, split at newlines and `;`.
pub fn parse_code(line: usize, code: &str) -> Result<Vec<Stmt>, ParseError> {
    let err = |message: String| ParseError { line, message };
    let joined = code.replace("\\\n", " ");
    let mut out = Vec::new();
    for stmt in joined.split(['\n', ';']).map(str::trim).filter(|s| !s.is_empty() && !s.starts_with('#')) {
        if stmt.starts_with("print(") || stmt.starts_with("print ") {
            out.push(Stmt::Print);
        } else if let Some(rest) = stmt.strip_prefix("assert ") {
            // The message after a top-level comma is Python's, for its own output.
            let expr_text = split_top_level_comma(rest);
            let expr = parse_expr(expr_text).map_err(|e| err(format!("`{stmt}`: {e}")))?;
            out.push(Stmt::Assert { expr, text: expr_text.trim().to_string() });
        } else if let Some((name, op, value)) = augmented(stmt) {
            // `NAME op= EXPR` is `NAME = NAME op (EXPR)`.
            let expr = parse_expr(&format!("{name} {op} ({value})")).map_err(|e| err(format!("`{stmt}`: {e}")))?;
            out.push(Stmt::Assign { name: name.to_string(), expr });
        } else if let Some((name, value)) = assignment(stmt) {
            let expr = parse_expr(value).map_err(|e| err(format!("`{stmt}`: {e}")))?;
            out.push(Stmt::Assign { name: name.to_string(), expr });
        } else {
            return Err(err(format!("`{stmt}`: only assert, NAME = value and print are understood in code blocks")));
        }
    }
    Ok(out)
}

fn split_top_level_comma(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return &text[..i],
            _ => {}
        }
    }
    text
}

/// `NAME op= value` for `+ - * // / % | & ^`.
fn augmented(stmt: &str) -> Option<(&str, &str, &str)> {
    let (left, value) = stmt.split_once('=')?;
    let left = left.trim_end();
    let op = ["//", "+", "-", "*", "/", "%", "|", "&", "^"].into_iter().find(|op| left.ends_with(op))?;
    let name = left[..left.len() - op.len()].trim();
    (is_identifier(name) && !value.starts_with('=')).then_some((name, op, value))
}

/// `NAME = value` (not `==`).
fn assignment(stmt: &str) -> Option<(&str, &str)> {
    let (name, value) = stmt.split_once('=')?;
    let name = name.trim();
    (is_identifier(name) && !value.starts_with('=')).then_some((name, value))
}

/// A Python name: letters, digits and `_`, not starting with a digit.
fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Int(i64),
    Name(String),
    Op(&'static str),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    const OPS: [&str; 20] =
        ["==", "!=", "<=", ">=", "<<", ">>", "//", "<", ">", "|", "&", "^", "+", "-", "*", "/", "%", "(", ")", "~"];
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            out.push(Token::Op(op));
            rest = &rest[op.len()..];
        } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            let word = &rest[..end];
            let value = match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16),
                None => word.parse(),
            };
            out.push(Token::Int(value.map_err(|_| format!("`{word}` is not a number"))?));
            rest = &rest[end..];
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
            out.push(Token::Name(rest[..end].to_string()));
            rest = &rest[end..];
        } else {
            return Err(format!("unexpected `{}`", rest.chars().next().unwrap_or(' ')));
        }
        rest = rest.trim_start();
    }
    Ok(out)
}

/// Python's precedence, lowest first: or, and, not, comparisons, |, ^, &, shifts, + -, * / %.
fn parse_expr(text: &str) -> Result<Expr, String> {
    let t = tokens(text)?;
    let mut p = Parser { t, at: 0 };
    let e = p.or()?;
    if p.at != p.t.len() {
        return Err(format!("unexpected {:?}", p.t[p.at]));
    }
    Ok(e)
}

struct Parser {
    t: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.t.get(self.at) {
            Some(Token::Op(op)) => Some(op),
            Some(Token::Name(n)) if n == "and" => Some("and"),
            Some(Token::Name(n)) if n == "or" => Some("or"),
            _ => None,
        }
    }

    fn binary(&mut self, ops: &[(&str, Op)], next: fn(&mut Parser) -> Result<Expr, String>) -> Result<Expr, String> {
        let mut left = next(self)?;
        while let Some(&(_, op)) = self.peek_op().and_then(|o| ops.iter().find(|(s, _)| *s == o)) {
            self.at += 1;
            let right = next(self)?;
            left = Expr::Binary(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.binary(&[("or", Op::Or)], Parser::and)
    }
    fn and(&mut self) -> Result<Expr, String> {
        self.binary(&[("and", Op::And)], Parser::not)
    }
    fn not(&mut self) -> Result<Expr, String> {
        if matches!(self.t.get(self.at), Some(Token::Name(n)) if n == "not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.compare()
    }
    fn compare(&mut self) -> Result<Expr, String> {
        const CMP: [(&str, Op); 6] =
            [("==", Op::Eq), ("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
        let first = self.bit_or()?;
        let mut chain = Vec::new();
        while let Some(&(_, op)) = self.peek_op().and_then(|o| CMP.iter().find(|(s, _)| *s == o)) {
            self.at += 1;
            chain.push((op, self.bit_or()?));
        }
        Ok(if chain.is_empty() { first } else { Expr::Compare(Box::new(first), chain) })
    }
    fn bit_or(&mut self) -> Result<Expr, String> {
        self.binary(&[("|", Op::BitOr)], Parser::bit_xor)
    }
    fn bit_xor(&mut self) -> Result<Expr, String> {
        self.binary(&[("^", Op::BitXor)], Parser::bit_and)
    }
    fn bit_and(&mut self) -> Result<Expr, String> {
        self.binary(&[("&", Op::BitAnd)], Parser::shift)
    }
    fn shift(&mut self) -> Result<Expr, String> {
        self.binary(&[("<<", Op::Shl), (">>", Op::Shr)], Parser::sum)
    }
    fn sum(&mut self) -> Result<Expr, String> {
        self.binary(&[("+", Op::Add), ("-", Op::Sub)], Parser::product)
    }
    fn product(&mut self) -> Result<Expr, String> {
        self.binary(&[("*", Op::Mul), ("//", Op::Div), ("/", Op::Div), ("%", Op::Rem)], Parser::unary)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        match self.t.get(self.at).cloned() {
            Some(Token::Op("-")) => {
                self.at += 1;
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Some(Token::Op("(")) => {
                self.at += 1;
                let e = self.or()?;
                if self.t.get(self.at) != Some(&Token::Op(")")) {
                    return Err("a `(` without its `)`".into());
                }
                self.at += 1;
                Ok(e)
            }
            Some(Token::Int(v)) => {
                self.at += 1;
                Ok(Expr::Int(v))
            }
            Some(Token::Name(n)) => {
                self.at += 1;
                Ok(Expr::Name(n))
            }
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

/// What names mean while a block runs: the block's own variables first, then `lookup`.
pub struct Env<'a> {
    pub vars: &'a mut HashMap<String, i64>,
    pub lookup: &'a dyn Fn(&str) -> Result<i64, String>,
}

impl Env<'_> {
    /// Runs the statements; an assertion that does not hold is an error naming it.
    pub fn run(&mut self, stmts: &[Stmt]) -> Result<(), String> {
        for stmt in stmts {
            match stmt {
                Stmt::Print => {}
                Stmt::Assign { name, expr } => {
                    let v = self.eval(expr)?;
                    self.vars.insert(name.clone(), v);
                }
                Stmt::Assert { expr, text } => {
                    if self.eval(expr)? == 0 {
                        return Err(format!("assert {text} failed{}", self.values_in(expr)));
                    }
                }
            }
        }
        Ok(())
    }

    /// `: name is value, ...` for the names an expression reads, for a failure message.
    fn values_in(&self, expr: &Expr) -> String {
        let mut names = Vec::new();
        collect_names(expr, &mut names);
        names.dedup();
        let parts: Vec<String> =
            names.iter().filter_map(|n| self.value(n).ok().map(|v| format!("{n} is {v}"))).collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(", "))
        }
    }

    fn value(&self, name: &str) -> Result<i64, String> {
        match self.vars.get(name) {
            Some(&v) => Ok(v),
            None => (self.lookup)(name),
        }
    }

    fn eval(&self, e: &Expr) -> Result<i64, String> {
        let overflow = || "arithmetic overflow".to_string();
        Ok(match e {
            Expr::Int(v) => *v,
            Expr::Name(n) => self.value(n)?,
            Expr::Not(x) => (self.eval(x)? == 0) as i64,
            Expr::Neg(x) => self.eval(x)?.checked_neg().ok_or_else(overflow)?,
            Expr::Compare(first, chain) => {
                let mut left = self.eval(first)?;
                for (op, right) in chain {
                    let right = self.eval(right)?;
                    let holds = match op {
                        Op::Eq => left == right,
                        Op::Ne => left != right,
                        Op::Lt => left < right,
                        Op::Le => left <= right,
                        Op::Gt => left > right,
                        _ => left >= right,
                    };
                    if !holds {
                        return Ok(0);
                    }
                    left = right;
                }
                1
            }
            Expr::Binary(a, Op::And, b) => (self.eval(a)? != 0 && self.eval(b)? != 0) as i64,
            Expr::Binary(a, Op::Or, b) => (self.eval(a)? != 0 || self.eval(b)? != 0) as i64,
            Expr::Binary(a, op, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                match op {
                    Op::BitOr => a | b,
                    Op::BitXor => a ^ b,
                    Op::BitAnd => a & b,
                    Op::Shl => u32::try_from(b).ok().and_then(|b| a.checked_shl(b)).ok_or_else(overflow)?,
                    Op::Shr => u32::try_from(b).ok().and_then(|b| a.checked_shr(b)).ok_or_else(overflow)?,
                    Op::Add => a.checked_add(b).ok_or_else(overflow)?,
                    Op::Sub => a.checked_sub(b).ok_or_else(overflow)?,
                    Op::Mul => a.checked_mul(b).ok_or_else(overflow)?,
                    Op::Div => a.checked_div_euclid(b).ok_or("division by zero")?,
                    _ => a.checked_rem_euclid(b).ok_or("division by zero")?,
                }
            }
        })
    }
}

fn collect_names(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Int(_) => {}
        Expr::Name(n) => out.push(n.clone()),
        Expr::Not(x) | Expr::Neg(x) => collect_names(x, out),
        Expr::Binary(a, _, b) => {
            collect_names(a, out);
            collect_names(b, out);
        }
        Expr::Compare(a, chain) => {
            collect_names(a, out);
            for (_, x) in chain {
                collect_names(x, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str, fields: &[(&str, i64)]) -> Result<(), String> {
        let stmts = parse_code(1, code).map_err(|e| e.message)?;
        let mut vars = HashMap::new();
        let lookup = |n: &str| fields.iter().find(|(k, _)| *k == n).map(|&(_, v)| v).ok_or(format!("no {n}"));
        Env { vars: &mut vars, lookup: &lookup }.run(&stmts)
    }

    #[test]
    fn the_forms_the_scripts_use() {
        let f = [("tcpi_snd_cwnd", 10), ("tcpi_options", 7)];
        assert_eq!(run("assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd", &f), Ok(()));
        assert_eq!(run("assert 9 <= tcpi_snd_cwnd <= 11, tcpi_snd_cwnd", &f), Ok(()));
        assert!(run("assert 11 <= tcpi_snd_cwnd <= 12", &f).unwrap_err().contains("tcpi_snd_cwnd is 10"));
        assert_eq!(run("X = 0x7fffffff\nassert X == 2147483647", &f), Ok(()));
        assert_eq!(run("assert tcpi_options == (1 | 2 | 4)", &f), Ok(()));
        assert_eq!(run("print(tcpi_snd_cwnd); assert tcpi_snd_cwnd != 3", &f), Ok(()));
        assert_eq!(run("assert (tcpi_snd_cwnd ==\\\n 10)", &f), Ok(()));
        assert_eq!(run("assert not tcpi_snd_cwnd == 3 and tcpi_options & 4 == 4", &f), Ok(()));
        assert_eq!(run("assert 1 << 3 == 8 and 7 // 2 == 3 and -7 % 3 == 2", &f), Ok(()));
        assert_eq!(run("cwnd = 10\ncwnd += 2\ncwnd //= 3\nassert cwnd == 4", &f), Ok(()));
    }

    #[test]
    fn what_is_not_understood_is_an_error_not_a_pass() {
        assert!(parse_code(1, "import os").is_err());
        assert!(parse_code(1, "assert (1").is_err());
        assert!(parse_code(1, "assert 1 +").is_err());
        assert!(run("assert tcpi_nothing == 1", &[]).unwrap_err().contains("no tcpi_nothing"));
        assert!(run("assert 1 // 0 == 1", &[]).is_err());
        assert!(run("assert 9223372036854775807 + 1 > 0", &[]).is_err());
    }
}
