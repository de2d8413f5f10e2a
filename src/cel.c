/*
 * cel.c: the CEL subset of trigger and subscription filters.
 *
 * A filter is an expression over two variables: data (the event's data, a
 * JSON object) and event_type (a string). It is parsed by recursive descent
 * into a small tree (struct cel_expr) and evaluated over jansson values:
 * every value is a json_t (int, double, string, bool, null, list = array,
 * map = object). The subset, and where it differs from CEL, is documented
 * in autokitteh.yaml(5); in short:
 *
 *   literals      1 0x1F 1.5 2e3 "s" 's' """s""" r"raw" true false null
 *                 [a, b] {"k": v}
 *   access        a.b  a["b"]  list[0]  has(a.b)
 *   operators     ?:  ||  &&  == != < <= > >= in  + -  * / %  ! -(unary)
 *   functions     size(x) x.size() int(x) double(x) string(x)
 *                 s.startsWith(t) s.endsWith(t) s.contains(t) s.matches(re)
 *                 matches(s, re) s.lowerAscii() s.upperAscii() s.trim()
 *                 s.split(sep)
 *
 * Errors are sentences: parse errors start with "column N: " (1-based,
 * counted in characters), evaluation errors are CEL's ("no such key: x",
 * "division by zero"). The source is at most CEL_MAX_SOURCE bytes and the
 * tree at most CEL_MAX_DEPTH levels deep, so neither the parser nor the
 * evaluator recurses without bound. && and || short-circuit, and, as in
 * CEL, an error on one side gives way to a deciding value on the other
 * (error && false is false). Deviations from CEL, all deliberate: int and
 * double mix in arithmetic (JSON numbers are either); doubles must stay
 * finite (JSON has no inf or NaN); matches() is POSIX ERE, not RE2, and
 * refuses back-references and large counted repetitions; map keys are
 * strings (JSON objects); there is no uint, bytes, timestamp, duration,
 * type(), macro (all, exists, map, filter...) or optional syntax.
 */
#include "autokittehd.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define CEL_MAX_SOURCE	4096	/* bytes of expression */
#define CEL_MAX_DEPTH	64	/* nesting of the parse and of the tree */
#define CEL_MAX_REGEX	1024	/* bytes of a regular expression */
#define CEL_MAX_REPEAT	1000	/* a bound of x{n,m} in a regex */
#define CEL_MAX_REGEX_SIZE 1000	/* a regex's atoms, repetitions expanded */

/* ---- the tree ---- */

enum kind {
	K_LIT,		/* lit */
	K_DATA,		/* the variable data */
	K_ETYPE,	/* the variable event_type */
	K_LIST,		/* [kids...] */
	K_MAP,		/* {kids[0]: kids[1], ...} */
	K_SELECT,	/* kids[0].name */
	K_HAS,		/* has(kids[0].name) */
	K_INDEX,	/* kids[0][kids[1]] */
	K_CALL,		/* fn(kids...), the receiver of a method first */
	K_NOT,		/* !kids[0] */
	K_NEG,		/* -kids[0] */
	K_AND,		/* kids[0] && kids[1] */
	K_OR,		/* kids[0] || kids[1] */
	K_COND,		/* kids[0] ? kids[1] : kids[2] */
	K_BIN,		/* kids[0] op kids[1]: arithmetic, relations, in */
};

struct cel_expr {
	enum kind		 kind;
	int			 op;	/* K_BIN: token; K_CALL: enum func */
	int			 height;/* 1 + the tallest kid */
	json_t			*lit;
	char			*name;
	struct cel_expr	**kids;
	size_t			 nkids;
	regex_t			*re;	/* K_CALL matches(): a literal pattern */
};

/* Tokens: single characters stand for themselves. */
enum {
	T_EOF = 256, T_ERR, T_INT, T_DOUBLE, T_STRING, T_IDENT,
	T_EQ, T_NE, T_LE, T_GE, T_AND, T_OR, T_IN,
};

enum func {
	F_SIZE, F_INT, F_DOUBLE, F_STRING, F_STARTS, F_ENDS, F_CONTAINS,
	F_MATCHES, F_LOWER, F_UPPER, F_TRIM, F_SPLIT,
};

/* The functions: nargs counts the receiver of a method. */
static const struct func_def {
	const char	*name;
	enum func	 id;
	size_t		 nargs;
	int		 global, method;
} funcs[] = {
	{ "size",	F_SIZE,		1, 1, 1 },
	{ "int",	F_INT,		1, 1, 0 },
	{ "double",	F_DOUBLE,	1, 1, 0 },
	{ "string",	F_STRING,	1, 1, 0 },
	{ "startsWith",	F_STARTS,	2, 0, 1 },
	{ "endsWith",	F_ENDS,		2, 0, 1 },
	{ "contains",	F_CONTAINS,	2, 0, 1 },
	{ "matches",	F_MATCHES,	2, 1, 1 },
	{ "lowerAscii",	F_LOWER,	1, 0, 1 },
	{ "upperAscii",	F_UPPER,	1, 0, 1 },
	{ "trim",	F_TRIM,		1, 0, 1 },
	{ "split",	F_SPLIT,	2, 0, 1 },
};

/* CEL's macros and reserved words, refused by name. */
static const char *const macros[] = {
	"all", "exists", "exists_one", "map", "filter",
};
static const char *const reserved[] = {
	"as", "break", "const", "continue", "else", "for", "function", "if",
	"import", "let", "loop", "package", "namespace", "return", "var",
	"void", "while",
};

void
cel_free(struct cel_expr *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		cel_free(n->kids[i]);
	free(n->kids);
	json_decref(n->lit);
	free(n->name);
	if (n->re != NULL) {
		regfree(n->re);
		free(n->re);
	}
	free(n);
}

static struct cel_expr *
mknode(enum kind kind, int op)
{
	struct cel_expr *n = xcalloc(1, sizeof *n);

	n->kind = kind;
	n->op = op;
	n->height = 1;
	return n;
}

/* A jansson constructor's result; NULL only when memory ran out. */
static json_t *
jx(json_t *v)
{
	if (v == NULL)
		fatalx("cel: out of memory");
	return v;
}

/* ---- the parser ---- */

struct token {
	int		 kind;
	size_t		 pos;		/* byte offset in the source */
	size_t		 len;		/* bytes of source */
	uint64_t	 ival;		/* T_INT */
	double		 dval;		/* T_DOUBLE */
	json_t		*str;		/* T_STRING, until the parser takes it */
};

struct parser {
	const char	*src;
	size_t		 len;
	size_t		 pos;		/* the lexer's */
	struct token	 tok;		/* the current token */
	int		 depth;
	char		*err;		/* the first error wins */
};

/* The 1-based column of byte offset pos, counted in UTF-8 characters. */
static unsigned
column(const struct parser *p, size_t pos)
{
	unsigned col = 1;

	for (size_t i = 0; i < pos && i < p->len; i++) {
		if (((unsigned char)p->src[i] & 0xC0) != 0x80)
			col++;
	}
	return col;
}

static void *fail(struct parser *, size_t, const char *, ...)
    AK_PRINTFLIKE(3, 4);

/* Record "column N: ..." unless an error is already recorded; NULL. */
static void *
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->err == NULL) {
		va_start(ap, fmt);
		xvasprintf(&msg, fmt, ap);
		va_end(ap);
		xasprintf(&p->err, "column %u: %s", column(p, pos), msg);
		free(msg);
	}
	p->tok.kind = T_ERR;
	return NULL;
}

/* A growable byte buffer for string literals. */
struct buf {
	char	*s;
	size_t	 len, size;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->size) {
		b->size = (b->len + n) * 2 + 16;
		b->s = xreallocarray(b->s, b->size, 1);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

static void
buf_utf8(struct buf *b, uint32_t c)
{
	unsigned char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = 0xC0 | (c >> 6);
		u[1] = 0x80 | (c & 0x3F);
		n = 2;
	} else if (c < 0x10000) {
		u[0] = 0xE0 | (c >> 12);
		u[1] = 0x80 | ((c >> 6) & 0x3F);
		u[2] = 0x80 | (c & 0x3F);
		n = 3;
	} else {
		u[0] = 0xF0 | (c >> 18);
		u[1] = 0x80 | ((c >> 12) & 0x3F);
		u[2] = 0x80 | ((c >> 6) & 0x3F);
		u[3] = 0x80 | (c & 0x3F);
		n = 4;
	}
	buf_add(b, u, n);
}

/* The value of the hex digit c, or -1. */
static int
hexval(char c)
{
	return OPENSSL_hexchar2int((unsigned char)c);
}

/* One escape after a backslash at s[*i]; the code point or -1. */
static long
lex_escape(struct parser *p, size_t *i)
{
	const char *s = p->src;
	size_t at = *i, ndigits = 0;
	int c = (unsigned char)s[at + 1];
	long v = 0;

	*i = at + 2;
	switch (c) {
	case 'a': return '\a';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	case '\\': case '\'': case '"': case '`': case '?':
		return c;
	case 'x': case 'X': ndigits = 2; break;
	case 'u': ndigits = 4; break;
	case 'U': ndigits = 8; break;
	case '0': case '1': case '2': case '3':
		/* Octal: exactly three digits. */
		for (size_t k = 0; k < 3; k++) {
			c = at + 1 + k < p->len ? s[at + 1 + k] : 0;
			if (c < '0' || c > '7') {
				fail(p, at, "an octal escape needs three "
				    "digits");
				return -1;
			}
			v = v * 8 + (c - '0');
		}
		*i = at + 4;
		return v;
	default:
		if (c >= 0x20 && c < 0x7F)
			fail(p, at, "invalid escape '\\%c'", c);
		else
			fail(p, at, "invalid escape");
		return -1;
	}
	for (size_t k = 0; k < ndigits; k++) {
		int h = at + 2 + k < p->len ? hexval(s[at + 2 + k]) : -1;

		if (h < 0) {
			fail(p, at, "'\\%c' needs %zu hex digits", c, ndigits);
			return -1;
		}
		v = v * 16 + h;
	}
	*i = at + 2 + ndigits;
	if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
		fail(p, at, "invalid escape: U+%lX is not a character", v);
		return -1;
	}
	return v;
}

/* A string literal at p->pos (after any r prefix at start). */
static void
lex_string(struct parser *p, size_t start, int raw)
{
	const char *s = p->src;
	size_t i = p->pos;
	char q = s[i];
	int triple = i + 2 < p->len && s[i + 1] == q && s[i + 2] == q;
	struct buf b = { NULL, 0, 0 };
	long c;

	i += triple ? 3 : 1;
	for (;;) {
		if (i >= p->len || (!triple && (s[i] == '\n' ||
		    s[i] == '\r'))) {
			fail(p, start, "unterminated string");
			goto out;
		}
		if (s[i] == q && (!triple || (i + 2 < p->len &&
		    s[i + 1] == q && s[i + 2] == q))) {
			i += triple ? 3 : 1;
			break;
		}
		if (s[i] == '\\' && !raw) {
			if (i + 1 >= p->len) {
				fail(p, start, "unterminated string");
				goto out;
			}
			if ((c = lex_escape(p, &i)) < 0)
				goto out;
			buf_utf8(&b, (uint32_t)c);
			continue;
		}
		buf_add(&b, &s[i], 1);
		i++;
	}
	if ((p->tok.str = json_stringn(b.s != NULL ? b.s : "", b.len)) ==
	    NULL) {
		fail(p, start, "the string is not valid UTF-8");
		goto out;
	}
	p->tok.kind = T_STRING;
	p->pos = i;
out:
	free(b.s);
}

static void
lex_number(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos, start = i;
	int is_double = 0;
	char tmp[128];

	if (s[i] == '0' && i + 1 < p->len && (s[i + 1] == 'x' ||
	    s[i + 1] == 'X') && i + 2 < p->len && hexval(s[i + 2]) >= 0) {
		uint64_t v = 0;

		for (i += 2; i < p->len && hexval(s[i]) >= 0; i++) {
			if (v > (UINT64_C(1) << 63) >> 4) {
				fail(p, start, "integer literal out of range");
				return;
			}
			v = v * 16 + hexval(s[i]);
		}
		p->tok.ival = v;
		goto integer;
	}
	while (i < p->len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i + 1 < p->len && s[i] == '.' && s[i + 1] >= '0' &&
	    s[i + 1] <= '9') {
		is_double = 1;
		for (i++; i < p->len && s[i] >= '0' && s[i] <= '9'; i++)
			;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < p->len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->len && s[j] >= '0' && s[j] <= '9') {
			is_double = 1;
			for (i = j; i < p->len && s[i] >= '0' && s[i] <= '9';
			    i++)
				;
		}
	}
	if (i - start >= sizeof tmp) {
		fail(p, start, "the number is too long");
		return;
	}
	memcpy(tmp, s + start, i - start);
	tmp[i - start] = '\0';
	if (is_double) {
		p->tok.dval = strtod(tmp, NULL);
		if (!isfinite(p->tok.dval)) {
			fail(p, start, "double literal out of range");
			return;
		}
		p->tok.kind = T_DOUBLE;
		p->pos = i;
		return;
	}
	errno = 0;
	p->tok.ival = strtoull(tmp, NULL, 10);
	if (errno == ERANGE || p->tok.ival > (UINT64_C(1) << 63)) {
		fail(p, start, "integer literal out of range");
		return;
	}
integer:
	if (i < p->len && (s[i] == 'u' || s[i] == 'U')) {
		fail(p, start, "unsigned integers are not supported");
		return;
	}
	p->tok.kind = T_INT;
	p->pos = i;
}

static int
is_ident_char(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/* Advance p->tok to the next token. */
static void
lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos;
	int c;

	json_decref(p->tok.str);
	memset(&p->tok, 0, sizeof p->tok);
	if (p->err != NULL) {
		p->tok.kind = T_ERR;
		return;
	}
	/* Blanks and // comments. */
	for (;;) {
		while (i < p->len && strchr(" \t\n\r\f\v", s[i]) != NULL &&
		    s[i] != '\0')
			i++;
		if (i + 1 < p->len && s[i] == '/' && s[i + 1] == '/') {
			while (i < p->len && s[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	p->pos = p->tok.pos = i;
	if (i >= p->len) {
		p->tok.kind = T_EOF;
		return;
	}
	c = (unsigned char)s[i];
	if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < p->len &&
	    s[i + 1] >= '0' && s[i + 1] <= '9'))
		lex_number(p);
	else if (c == '"' || c == '\'')
		lex_string(p, i, 0);
	else if ((c == 'r' || c == 'R') && i + 1 < p->len &&
	    (s[i + 1] == '"' || s[i + 1] == '\'')) {
		p->pos = i + 1;
		lex_string(p, i, 1);
	} else if ((c == 'b' || c == 'B') && i + 1 < p->len &&
	    (s[i + 1] == '"' || s[i + 1] == '\''))
		fail(p, i, "bytes literals are not supported");
	else if (is_ident_char(c, 1)) {
		while (i < p->len && is_ident_char((unsigned char)s[i], 0))
			i++;
		p->tok.kind = i - p->pos == 2 && memcmp(s + p->pos, "in",
		    2) == 0 ? T_IN : T_IDENT;
		p->pos = i;
	} else {
		static const struct { char s[3]; int kind; } two[] = {
			{ "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE },
			{ ">=", T_GE }, { "&&", T_AND }, { "||", T_OR },
		};

		for (size_t k = 0; k < nitems(two); k++) {
			if (i + 1 < p->len && s[i] == two[k].s[0] &&
			    s[i + 1] == two[k].s[1]) {
				p->tok.kind = two[k].kind;
				p->pos = i + 2;
				goto out;
			}
		}
		if (c != '\0' && strchr("()[]{}.,:?+-*/%!<>", c) != NULL) {
			p->tok.kind = c;
			p->pos = i + 1;
		} else if (c == '=')
			fail(p, i, "unexpected '=' (compare with ==)");
		else if (c == '&' || c == '|')
			fail(p, i, "unexpected '%c' (use %c%c)", c, c, c);
		else if (c > 0x20 && c < 0x7F)
			fail(p, i, "unexpected character '%c'", c);
		else
			fail(p, i, "unexpected byte 0x%02x", c);
	}
out:
	p->tok.len = p->pos - p->tok.pos;
}

/* The current token, for "unexpected ..." messages. */
static void
describe(const struct parser *p, char *out, size_t size)
{
	const struct token *t = &p->tok;

	switch (t->kind) {
	case T_EOF:
		snprintf(out, size, "end of the expression");
		break;
	case T_INT:
	case T_DOUBLE:
		snprintf(out, size, "number");
		break;
	case T_STRING:
		snprintf(out, size, "string");
		break;
	default:
		snprintf(out, size, "'%.*s'", (int)(t->len < 32 ? t->len : 32),
		    p->src + t->pos);
		break;
	}
}

static void *
unexpected(struct parser *p)
{
	char what[64];

	describe(p, what, sizeof what);
	return fail(p, p->tok.pos, "unexpected %s", what);
}

static int
expect(struct parser *p, int kind, const char *what)
{
	if (p->tok.kind != kind) {
		fail(p, p->tok.pos, "expected %s", what);
		return -1;
	}
	lex(p);
	return 0;
}

/* Give n a kid (taken even on failure); -1 for a NULL kid or too deep. */
static int
push(struct parser *p, struct cel_expr *n, struct cel_expr *kid, size_t pos)
{
	if (kid == NULL)
		return -1;
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof *n->kids);
	n->kids[n->nkids++] = kid;
	if (kid->height + 1 > n->height)
		n->height = kid->height + 1;
	if (n->height > CEL_MAX_DEPTH) {
		fail(p, pos, "the expression nests too deeply (more than %d "
		    "levels)", CEL_MAX_DEPTH);
		return -1;
	}
	return 0;
}

static struct cel_expr *parse_expr(struct parser *);
static int regex_compile(const char *, size_t, regex_t **, char **);

/* Arguments up to ')' (the current token is '('), pushed onto n. */
static int
parse_args(struct parser *p, struct cel_expr *n)
{
	lex(p);
	if (p->tok.kind == ')') {
		lex(p);
		return 0;
	}
	for (;;) {
		if (push(p, n, parse_expr(p), p->tok.pos) != 0)
			return -1;
		if (p->tok.kind == ',') {
			lex(p);
			continue;
		}
		return expect(p, ')', "')'");
	}
}

/* name(...) or recv.name(...); the current token is '('. */
static struct cel_expr *
parse_call(struct parser *p, const char *name, size_t pos,
    struct cel_expr *recv)
{
	const struct func_def *f = NULL;
	struct cel_expr *n;
	size_t given;

	for (size_t i = 0; i < nitems(macros); i++) {
		if (strcmp(name, macros[i]) == 0) {
			cel_free(recv);
			return fail(p, pos, "the %s() macro is not supported",
			    name);
		}
	}
	for (size_t i = 0; i < nitems(funcs); i++) {
		if (strcmp(name, funcs[i].name) == 0)
			f = &funcs[i];
	}
	if (f == NULL) {
		cel_free(recv);
		return fail(p, pos, "unknown function '%s'", name);
	}
	if (recv != NULL && !f->method) {
		cel_free(recv);
		return fail(p, pos, "%s() is not a method: write %s(x)", name,
		    name);
	}
	if (recv == NULL && !f->global)
		return fail(p, pos, "%s() is a method: write x.%s(...)", name,
		    name);
	n = mknode(K_CALL, f->id);
	if ((recv != NULL && push(p, n, recv, pos) != 0) ||
	    parse_args(p, n) != 0) {
		cel_free(n);
		return NULL;
	}
	if (n->nkids != f->nargs) {
		given = n->nkids - (recv != NULL);
		cel_free(n);
		return fail(p, pos, "%s() takes %zu argument%s, not %zu", name,
		    f->nargs - (recv != NULL), f->nargs - (recv != NULL) == 1 ?
		    "" : "s", given);
	}
	/* A literal pattern is checked, and compiled once, here. */
	if (f->id == F_MATCHES && n->kids[1]->kind == K_LIT &&
	    json_is_string(n->kids[1]->lit)) {
		char *why = NULL;
		json_t *re = n->kids[1]->lit;

		if (regex_compile(json_string_value(re), json_string_length(re),
		    &n->re, &why) != 0) {
			fail(p, pos, "%s", why);
			free(why);
			cel_free(n);
			return NULL;
		}
	}
	return n;
}

static struct cel_expr *parse_ident(struct parser *, const char *, size_t);

static struct cel_expr *
parse_primary(struct parser *p)
{
	struct cel_expr *n;
	size_t pos = p->tok.pos;
	char *name;

	switch (p->tok.kind) {
	case T_INT:
		if (p->tok.ival > INT64_MAX)
			return fail(p, pos, "integer literal out of range");
		n = mknode(K_LIT, 0);
		n->lit = jx(json_integer((json_int_t)p->tok.ival));
		lex(p);
		return n;
	case T_DOUBLE:
		n = mknode(K_LIT, 0);
		n->lit = jx(json_real(p->tok.dval));
		lex(p);
		return n;
	case T_STRING:
		n = mknode(K_LIT, 0);
		n->lit = p->tok.str;
		p->tok.str = NULL;
		lex(p);
		return n;
	case '(':
		lex(p);
		if ((n = parse_expr(p)) != NULL && expect(p, ')', "')'") != 0) {
			cel_free(n);
			return NULL;
		}
		return n;
	case '[':
	case '{': {
		int close = p->tok.kind == '[' ? ']' : '}';
		size_t kpos;

		n = mknode(close == ']' ? K_LIST : K_MAP, 0);
		lex(p);
		while (p->tok.kind != close) {
			kpos = p->tok.pos;
			if (push(p, n, parse_expr(p), pos) != 0)
				goto bad;
			/* JSON objects: a map's keys are strings. */
			if (close == '}' && n->kids[n->nkids - 1]->kind ==
			    K_LIT && !json_is_string(n->kids[n->nkids -
			    1]->lit)) {
				fail(p, kpos, "map keys must be strings");
				goto bad;
			}
			if (close == '}' && (expect(p, ':', "':'") != 0 ||
			    push(p, n, parse_expr(p), pos) != 0))
				goto bad;
			if (p->tok.kind == ',')
				lex(p);
			else if (p->tok.kind != close) {
				fail(p, p->tok.pos, "expected ',' or '%c'",
				    close);
				goto bad;
			}
		}
		lex(p);
		return n;
bad:
		cel_free(n);
		return NULL;
	}
	case T_IDENT:
		break;
	case T_EOF:
		return fail(p, pos, "unexpected end of the expression");
	default:
		return unexpected(p);
	}

	/* An identifier: a literal, a variable or a function. */
	name = xstrndup(p->src + pos, p->tok.len);
	lex(p);
	n = parse_ident(p, name, pos);
	free(name);
	return n;
}

static struct cel_expr *
parse_ident(struct parser *p, const char *name, size_t pos)
{
	struct cel_expr *n, *sel;

	if (p->tok.kind == '(' && strcmp(name, "has") == 0) {
		n = mknode(K_HAS, 0);
		if (parse_args(p, n) != 0) {
			cel_free(n);
			return NULL;
		}
		if (n->nkids != 1 || n->kids[0]->kind != K_SELECT) {
			cel_free(n);
			return fail(p, pos, "has() needs a field selection, as "
			    "in has(data.x)");
		}
		/* has(a.b): the selection's operand and name, not the node. */
		sel = n->kids[0];
		n->kids[0] = sel->kids[0];
		n->name = sel->name;
		sel->name = NULL;
		sel->nkids = 0;
		cel_free(sel);
		return n;
	}
	if (p->tok.kind == '(')
		return parse_call(p, name, pos, NULL);
	if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
		n = mknode(K_LIT, 0);
		n->lit = json_boolean(*name == 't');
		return n;
	}
	if (strcmp(name, "null") == 0) {
		n = mknode(K_LIT, 0);
		n->lit = json_null();
		return n;
	}
	if (strcmp(name, "data") == 0)
		return mknode(K_DATA, 0);
	if (strcmp(name, "event_type") == 0)
		return mknode(K_ETYPE, 0);
	for (size_t i = 0; i < nitems(reserved); i++) {
		if (strcmp(name, reserved[i]) == 0)
			return fail(p, pos, "'%s' is a reserved word", name);
	}
	return fail(p, pos, "undeclared reference to '%s' (the variables are "
	    "data and event_type)", name);
}

/* primary, then any .field, .method(...) and [index]. */
static struct cel_expr *
parse_member(struct parser *p)
{
	struct cel_expr *n = parse_primary(p), *m;
	char *name;
	size_t pos;

	while (n != NULL && (p->tok.kind == '.' || p->tok.kind == '[')) {
		pos = p->tok.pos;
		if (p->tok.kind == '[') {
			lex(p);
			m = mknode(K_INDEX, 0);
			if (push(p, m, n, pos) != 0 ||
			    push(p, m, parse_expr(p), pos) != 0 ||
			    expect(p, ']', "']'") != 0) {
				cel_free(m);
				return NULL;
			}
			n = m;
			continue;
		}
		lex(p);
		pos = p->tok.pos;
		if (p->tok.kind != T_IDENT && p->tok.kind != T_IN) {
			cel_free(n);
			return fail(p, pos, "expected a field name after '.'");
		}
		name = xstrndup(p->src + pos, p->tok.len);
		lex(p);
		if (p->tok.kind == '(') {
			n = parse_call(p, name, pos, n);
			free(name);
			continue;
		}
		m = mknode(K_SELECT, 0);
		m->name = name;
		if (push(p, m, n, pos) != 0) {
			cel_free(m);
			return NULL;
		}
		n = m;
	}
	return n;
}

static struct cel_expr *
parse_unary(struct parser *p)
{
	struct cel_expr *n;
	size_t pos = p->tok.pos;
	int op = p->tok.kind;

	if (op != '!' && op != '-')
		return parse_member(p);
	if (++p->depth > CEL_MAX_DEPTH) {
		p->depth--;
		return fail(p, pos, "the expression nests too deeply (more "
		    "than %d levels)", CEL_MAX_DEPTH);
	}
	lex(p);
	/* -9223372036854775808 is an int, although its digits are not. */
	if (op == '-' && p->tok.kind == T_INT &&
	    p->tok.ival == UINT64_C(1) << 63) {
		n = mknode(K_LIT, 0);
		n->lit = jx(json_integer(INT64_MIN));
		lex(p);
	} else {
		n = mknode(op == '!' ? K_NOT : K_NEG, 0);
		if (push(p, n, parse_unary(p), pos) != 0) {
			cel_free(n);
			n = NULL;
		}
	}
	p->depth--;
	return n;
}

/* One level of left-associative binary operators. */
static struct cel_expr *
parse_binary(struct parser *p, int level)
{
	static const int ops[][8] = {
		{ T_OR },
		{ T_AND },
		{ T_EQ, T_NE, '<', T_LE, '>', T_GE, T_IN },
		{ '+', '-' },
		{ '*', '/', '%' },
	};
	struct cel_expr *l, *n;
	size_t pos;
	int op, found;

	l = level == (int)nitems(ops) - 1 ? parse_unary(p) :
	    parse_binary(p, level + 1);
	for (;;) {
		found = 0;
		for (size_t k = 0; k < nitems(ops[0]) && ops[level][k] != 0;
		    k++)
			found |= p->tok.kind == ops[level][k];
		if (l == NULL || !found)
			return l;
		op = p->tok.kind;
		pos = p->tok.pos;
		lex(p);
		n = mknode(op == T_OR ? K_OR : op == T_AND ? K_AND : K_BIN, op);
		if (push(p, n, l, pos) != 0 || push(p, n, level ==
		    (int)nitems(ops) - 1 ? parse_unary(p) : parse_binary(p,
		    level + 1), pos) != 0) {
			cel_free(n);
			return NULL;
		}
		l = n;
	}
}

/* or ('?' or ':' expr)? */
static struct cel_expr *
parse_expr(struct parser *p)
{
	struct cel_expr *c, *n = NULL;
	size_t pos = p->tok.pos;

	if (++p->depth > CEL_MAX_DEPTH) {
		p->depth--;
		return fail(p, pos, "the expression nests too deeply (more "
		    "than %d levels)", CEL_MAX_DEPTH);
	}
	c = parse_binary(p, 0);
	if (c == NULL || p->tok.kind != '?') {
		n = c;
		goto out;
	}
	pos = p->tok.pos;
	lex(p);
	n = mknode(K_COND, 0);
	if (push(p, n, c, pos) != 0 || push(p, n, parse_binary(p, 0),
	    pos) != 0 || expect(p, ':', "':'") != 0 ||
	    push(p, n, parse_expr(p), pos) != 0) {
		cel_free(n);
		n = NULL;
	}
out:
	p->depth--;
	return n;
}

/* "", blanks or "." : the filter that matches everything. */
static int
matches_all(const char *s)
{
	s += strspn(s, " \t\n\r\f\v");
	if (*s == '.')
		s++;
	s += strspn(s, " \t\n\r\f\v");
	return *s == '\0';
}

struct cel_expr *
cel_parse(const char *source, char **cause)
{
	struct parser p;
	struct cel_expr *n;

	if (source == NULL)
		source = "";
	memset(&p, 0, sizeof p);
	p.src = source;
	p.len = strlen(source);
	if (p.len > CEL_MAX_SOURCE) {
		xasprintf(cause, "the expression is longer than %d bytes",
		    CEL_MAX_SOURCE);
		return NULL;
	}
	if (matches_all(source)) {
		n = mknode(K_LIT, 0);
		n->lit = json_true();
		return n;
	}
	lex(&p);
	if ((n = parse_expr(&p)) != NULL && p.tok.kind != T_EOF) {
		unexpected(&p);
		cel_free(n);
		n = NULL;
	}
	json_decref(p.tok.str);
	if (n == NULL) {
		*cause = p.err != NULL ? p.err : xstrdup("column 1: invalid "
		    "expression");
		return NULL;
	}
	return n;
}

/* ---- regular expressions (POSIX ERE, where CEL has RE2) ---- */

/*
 * CEL's strings are Unicode, so a pattern is compiled and run in a UTF-8
 * locale ("." is a character, not a byte), whatever the process's own
 * locale; where C.UTF-8 is missing, in the process's locale.
 */
static locale_t
utf8_locale(void)
{
	static locale_t loc;
	static int tried;

	if (!tried) {
		tried = 1;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

/* regexec() in the UTF-8 locale: 1 matches, 0 does not. */
static int
regex_match(const regex_t *re, const char *s)
{
	locale_t loc = utf8_locale(), old = (locale_t)0;
	int rc;

	if (loc != (locale_t)0)
		old = uselocale(loc);
	rc = regexec(re, s, 0, NULL, 0);
	if (loc != (locale_t)0)
		uselocale(old);
	return rc == 0;
}

/*
 * Refuse what RE2 would and what makes glibc's regcomp or regexec blow
 * up: back-references (RE2 has none; matching them is exponential),
 * RE2's \d (POSIX reads a plain d), stacked repetitions (a++, a*?: RE2
 * refuses the one, means non-greedy by the other), and patterns whose
 * repetitions expand to too much: regcomp copies x for x+ and x{n,m}, so
 * nested ones multiply. The estimate: atoms count 1, a group the sum of
 * its contents, x+ twice x, x{n,m} max(n, m, 1) times x.
 */
static int
regex_check(const char *s, size_t len, char **cause)
{
	uint64_t stack[CEL_MAX_DEPTH], cur = 0, last = 0, factor, bound;
	size_t depth = 0;
	int after_rep = 0;

	for (size_t i = 0; i < len; i++) {
		factor = 0;		/* not a repetition */
		switch (s[i]) {
		case '\\':
			if (i + 1 < len && s[i + 1] >= '1' && s[i + 1] <= '9') {
				xasprintf(cause, "back-references (\\%c) are "
				    "not supported in regular expressions",
				    s[i + 1]);
				return -1;
			}
			if (i + 1 < len && (s[i + 1] == 'd' ||
			    s[i + 1] == 'D')) {
				xasprintf(cause, "\\%c is RE2, not POSIX: write "
				    "%s", s[i + 1], s[i + 1] == 'd' ? "[0-9]" :
				    "[^0-9]");
				return -1;
			}
			i++;
			last = 1;
			break;
		case '[':
			/* A bracket expression: []a] and [[:alpha:]] too. */
			i++;
			if (i < len && s[i] == '^')
				i++;
			if (i < len && s[i] == ']')
				i++;
			for (; i < len && s[i] != ']'; i++) {
				if (s[i] == '[' && i + 1 < len &&
				    strchr(":=.", s[i + 1]) != NULL) {
					const char *end = memmem(s + i + 2,
					    len - i - 2, (char[]){ s[i + 1],
					    ']' }, 2);

					if (end == NULL)
						break;
					i = end - s + 1;
				}
			}
			last = 1;
			break;
		case '(':
			if (depth == nitems(stack)) {
				xasprintf(cause, "the regular expression "
				    "nests too deeply");
				return -1;
			}
			stack[depth++] = cur;
			cur = 0;
			after_rep = 0;
			continue;
		case ')':
			if (depth == 0)
				break;	/* regcomp says what is wrong */
			last = cur;
			cur = stack[--depth];
			break;
		case '|':
			after_rep = 0;
			continue;
		case '*':
		case '?':
			factor = 1;
			break;
		case '+':
			factor = 2;
			break;
		case '{':
			if (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9') {
				last = 1;
				break;
			}
			/* {n}, {n,} or {n,m}: the larger bound, or n + 1. */
			for (i++, bound = 0; i < len && (s[i] == ',' ||
			    (s[i] >= '0' && s[i] <= '9')); i++) {
				if (s[i] == ',') {
					factor = bound + 1;
					bound = 0;
					continue;
				}
				if ((bound = bound * 10 + (s[i] - '0')) >
				    factor)
					factor = bound;
				if (factor > CEL_MAX_REPEAT) {
					xasprintf(cause, "the regular expression "
					    "repeats too much (more than %d "
					    "times)", CEL_MAX_REPEAT);
					return -1;
				}
			}
			if (factor == 0)
				factor = 1;
			break;
		default:
			last = 1;
			break;
		}
		if (factor != 0) {
			if (after_rep) {
				xasprintf(cause, "stacked repetitions (as in a** "
				    "or a+?) are not supported in regular "
				    "expressions");
				return -1;
			}
			after_rep = 1;
			cur += last * (factor - 1);
			last *= factor;
		} else {
			after_rep = 0;
			cur += last;
		}
		if (cur > CEL_MAX_REGEX_SIZE || last > CEL_MAX_REGEX_SIZE) {
			xasprintf(cause, "the regular expression repeats too "
			    "much (it expands to more than %d atoms)",
			    CEL_MAX_REGEX_SIZE);
			return -1;
		}
	}
	return 0;
}

static int
regex_compile(const char *s, size_t len, regex_t **out, char **cause)
{
	locale_t loc, old = (locale_t)0;
	char msg[128], *wrapped;
	regex_t *re;
	int rc;

	if (len > CEL_MAX_REGEX) {
		xasprintf(cause, "the regular expression is longer than %d "
		    "bytes", CEL_MAX_REGEX);
		return -1;
	}
	if (memchr(s, '\0', len) != NULL) {
		xasprintf(cause, "the regular expression contains a NUL");
		return -1;
	}
	if (regex_check(s, len, cause) != 0)
		return -1;
	/*
	 * The pattern as written must compile; what runs is ^.*(pattern):
	 * it matches where the pattern matches anywhere, but glibc tries it
	 * from one start instead of from every one (quadratic on long
	 * strings).
	 */
	xasprintf(&wrapped, "^.*(%s)", s);
	re = xmalloc(sizeof *re);
	if ((loc = utf8_locale()) != (locale_t)0)
		old = uselocale(loc);
	if ((rc = regcomp(re, s, REG_EXTENDED | REG_NOSUB)) == 0) {
		regfree(re);
		if (regcomp(re, wrapped, REG_EXTENDED | REG_NOSUB) != 0)
			rc = regcomp(re, s, REG_EXTENDED | REG_NOSUB);
	}
	if (loc != (locale_t)0)
		uselocale(old);
	free(wrapped);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof msg);
		regfree(re);
		free(re);
		xasprintf(cause, "invalid regular expression \"%s\": %s", s,
		    msg);
		return -1;
	}
	*out = re;
	return 0;
}

/* ---- evaluation ---- */

struct eval {
	json_t		*data;
	const char	*event_type;
	char		*cause;
};

static void *efail(struct eval *, const char *, ...) AK_PRINTFLIKE(2, 3);

static void *
efail(struct eval *e, const char *fmt, ...)
{
	va_list ap;

	if (e->cause == NULL) {
		va_start(ap, fmt);
		xvasprintf(&e->cause, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

/* "int", "string", ... : CEL's type names. */
static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "map";
	case JSON_ARRAY:	return "list";
	case JSON_STRING:	return "string";
	case JSON_INTEGER:	return "int";
	case JSON_REAL:		return "double";
	case JSON_TRUE:
	case JSON_FALSE:	return "bool";
	default:		return "null";
	}
}

/* "an int", "a string", "null". */
static const char *
a_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "a map";
	case JSON_ARRAY:	return "a list";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:	return "an int";
	case JSON_REAL:		return "a double";
	case JSON_TRUE:
	case JSON_FALSE:	return "a bool";
	default:		return "null";
	}
}

static json_t *
mkreal(struct eval *e, double d, const char *what)
{
	if (!isfinite(d))
		return efail(e, "%s: the result is not a finite double", what);
	return jx(json_real(d));
}

/* Compare numbers a and b (int or double): -1, 0, 1. */
static int
num_cmp(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);

		return x < y ? -1 : x > y;
	}
	if (json_is_integer(a))
		return -num_cmp(b, a);
	if (json_is_real(a) && json_is_real(b)) {
		double x = json_real_value(a), y = json_real_value(b);

		return x < y ? -1 : x > y;
	}
	/* a double, b an int: exact, without rounding the int. */
	{
		double d = json_real_value(a), t;
		json_int_t i = json_integer_value(b), ti;

		if (d >= 9223372036854775808.0)
			return 1;
		if (d < -9223372036854775808.0)
			return -1;
		t = trunc(d);
		ti = (json_int_t)t;
		if (ti != i)
			return ti < i ? -1 : 1;
		return d > t ? 1 : d < t ? -1 : 0;
	}
}

static int
str_cmp(const json_t *a, const json_t *b)
{
	size_t la = json_string_length(a), lb = json_string_length(b);
	int c = memcmp(json_string_value(a), json_string_value(b),
	    la < lb ? la : lb);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb;
}

/* CEL equality: numbers across int and double, lists and maps deep. */
static int
equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return str_cmp(a, b) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach((json_t *)a, i, v) {
			if (!equal(v, json_array_get(b, i)))
				return 0;
		}
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, key, v) {
			json_t *w = json_object_get(b, key);

			if (w == NULL || !equal(v, w))
				return 0;
		}
		return 1;
	default:	/* true, false, null: the type says it all */
		return 1;
	}
}

static const char *
op_name(int op)
{
	static char s[2];

	switch (op) {
	case T_EQ:	return "==";
	case T_NE:	return "!=";
	case T_LE:	return "<=";
	case T_GE:	return ">=";
	case T_IN:	return "in";
	default:
		s[0] = op;
		return s;
	}
}

static json_t *
eval_arith(struct eval *e, int op, json_t *a, json_t *b)
{
	json_int_t x, y, r;

	if (json_is_integer(a) && json_is_integer(b)) {
		x = json_integer_value(a);
		y = json_integer_value(b);
		switch (op) {
		case '+':
			if (__builtin_add_overflow(x, y, &r))
				return efail(e, "integer overflow");
			break;
		case '-':
			if (__builtin_sub_overflow(x, y, &r))
				return efail(e, "integer overflow");
			break;
		case '*':
			if (__builtin_mul_overflow(x, y, &r))
				return efail(e, "integer overflow");
			break;
		case '/':
		case '%':
			if (y == 0)
				return efail(e, op == '/' ? "division by zero" :
				    "modulus by zero");
			if (x == INT64_MIN && y == -1)
				return efail(e, "integer overflow");
			r = op == '/' ? x / y : x % y;
			break;
		default:
			return efail(e, "internal error: operator %d", op);
		}
		return jx(json_integer(r));
	}
	/* int and double mix: JSON numbers are either. */
	if (json_is_number(a) && json_is_number(b) && op != '%') {
		double u = json_number_value(a), v = json_number_value(b);

		switch (op) {
		case '+': return mkreal(e, u + v, "+");
		case '-': return mkreal(e, u - v, "-");
		case '*': return mkreal(e, u * v, "*");
		default:  return mkreal(e, u / v, "/");
		}
	}
	if (op == '+' && json_is_string(a) && json_is_string(b)) {
		size_t la = json_string_length(a), lb = json_string_length(b);
		char *s = xmalloc(la + lb + 1);
		json_t *v;

		memcpy(s, json_string_value(a), la);
		memcpy(s + la, json_string_value(b), lb);
		v = jx(json_stringn(s, la + lb));
		free(s);
		return v;
	}
	if (op == '+' && json_is_array(a) && json_is_array(b)) {
		json_t *v = jx(json_array());

		json_array_extend(v, a);
		json_array_extend(v, b);
		return v;
	}
	return efail(e, "no such overload: %s %s %s", type_name(a), op_name(op),
	    type_name(b));
}

static json_t *
eval_binary(struct eval *e, int op, json_t *a, json_t *b)
{
	int c;

	switch (op) {
	case T_EQ:
		return json_boolean(equal(a, b));
	case T_NE:
		return json_boolean(!equal(a, b));
	case T_IN:
		if (json_is_array(b)) {
			json_t *v;
			size_t i;

			json_array_foreach(b, i, v) {
				if (equal(a, v))
					return json_true();
			}
			return json_false();
		}
		if (json_is_object(b))
			return json_boolean(json_is_string(a) &&
			    json_object_getn(b, json_string_value(a),
			    json_string_length(a)) != NULL);
		return efail(e, "no such overload: %s in %s (in needs a list "
		    "or a map)", type_name(a), type_name(b));
	case '<': case T_LE: case '>': case T_GE:
		if (json_is_number(a) && json_is_number(b))
			c = num_cmp(a, b);
		else if (json_is_string(a) && json_is_string(b))
			c = str_cmp(a, b);
		else if (json_is_boolean(a) && json_is_boolean(b))
			c = json_is_true(a) - json_is_true(b);
		else
			return efail(e, "no such overload: %s %s %s",
			    type_name(a), op_name(op), type_name(b));
		return json_boolean(op == '<' ? c < 0 : op == T_LE ? c <= 0 :
		    op == '>' ? c > 0 : c >= 0);
	default:
		return eval_arith(e, op, a, b);
	}
}

/* Characters (code points) in a valid UTF-8 string. */
static size_t
utf8_len(const char *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xC0) != 0x80;
	return count;
}

/* string(double): the shortest form that reads back the same. */
static json_t *
double_string(double d)
{
	char s[64];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	return jx(json_string(s));
}

static json_t *
convert(struct eval *e, enum func f, json_t *v)
{
	const char *s;
	char *end;
	double d;
	long long i;

	switch (f) {
	case F_INT:
		if (json_is_integer(v))
			return json_incref(v);
		if (json_is_real(v)) {
			d = json_real_value(v);
			if (!(d > -9223372036854775809.0 &&
			    d < 9223372036854775808.0))
				return efail(e, "int() out of range: %g", d);
			return jx(json_integer((json_int_t)d));
		}
		if (json_is_string(v)) {
			s = json_string_value(v);
			errno = 0;
			i = strtoll(s, &end, 10);
			if (*s == '\0' || strchr(" \t\n\r\f\v", *s) != NULL ||
			    end != s + json_string_length(v) ||
			    errno == ERANGE)
				return efail(e, "cannot convert \"%s\" to int",
				    s);
			return jx(json_integer(i));
		}
		break;
	case F_DOUBLE:
		if (json_is_real(v))
			return json_incref(v);
		if (json_is_integer(v))
			return jx(json_real((double)json_integer_value(v)));
		if (json_is_string(v)) {
			s = json_string_value(v);
			d = strtod(s, &end);
			if (*s == '\0' || strchr(" \t\n\r\f\v", *s) != NULL ||
			    end != s + json_string_length(v) || !isfinite(d))
				return efail(e, "cannot convert \"%s\" to "
				    "double", s);
			return jx(json_real(d));
		}
		break;
	default:	/* F_STRING */
		if (json_is_string(v))
			return json_incref(v);
		if (json_is_integer(v)) {
			char buf[32];

			snprintf(buf, sizeof buf, "%lld",
			    (long long)json_integer_value(v));
			return jx(json_string(buf));
		}
		if (json_is_real(v))
			return double_string(json_real_value(v));
		if (json_is_boolean(v))
			return jx(json_string(json_is_true(v) ? "true" :
			    "false"));
		break;
	}
	return efail(e, "no such overload: %s(%s)", funcs[f].name,
	    type_name(v));
}

static json_t *
string_method(struct eval *e, struct cel_expr *n, json_t *recv, json_t *arg)
{
	const char *s = json_string_value(recv), *t;
	size_t len = json_string_length(recv), tlen, a, z;
	enum func f = n->op;
	json_t *out;
	char *buf;

	if (!json_is_string(recv) || (arg != NULL && !json_is_string(arg)))
		return efail(e, "no such overload: %s.%s(%s)", type_name(recv),
		    funcs[f].name, arg != NULL ? type_name(arg) : "");
	t = arg != NULL ? json_string_value(arg) : NULL;
	tlen = arg != NULL ? json_string_length(arg) : 0;
	switch (f) {
	case F_STARTS:
		return json_boolean(tlen <= len && memcmp(s, t, tlen) == 0);
	case F_ENDS:
		return json_boolean(tlen <= len &&
		    memcmp(s + len - tlen, t, tlen) == 0);
	case F_CONTAINS:
		return json_boolean(memmem(s, len, t, tlen) != NULL);
	case F_MATCHES: {
		regex_t *re = n->re;
		char *why = NULL;
		int rc;

		if (re == NULL && regex_compile(t, tlen, &re, &why) != 0) {
			efail(e, "%s", why);
			free(why);
			return NULL;
		}
		/* The subject ends at its first NUL, if it has one. */
		rc = regex_match(re, s);
		if (re != n->re) {
			regfree(re);
			free(re);
		}
		return json_boolean(rc);
	}
	case F_LOWER:
	case F_UPPER:
		buf = xmalloc(len + 1);
		for (size_t i = 0; i < len; i++) {
			char c = s[i];

			if (f == F_LOWER && c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			else if (f == F_UPPER && c >= 'a' && c <= 'z')
				c -= 'a' - 'A';
			buf[i] = c;
		}
		out = jx(json_stringn(buf, len));
		free(buf);
		return out;
	case F_TRIM:
		for (a = 0; a < len && strchr(" \t\n\r\f\v", s[a]) != NULL &&
		    s[a] != '\0'; a++)
			;
		for (z = len; z > a && strchr(" \t\n\r\f\v", s[z - 1]) !=
		    NULL && s[z - 1] != '\0'; z--)
			;
		return jx(json_stringn(s + a, z - a));
	case F_SPLIT:
		out = jx(json_array());
		if (tlen == 0) {
			/* An empty separator splits into characters. */
			for (a = 0; a < len; a = z) {
				for (z = a + 1; z < len &&
				    ((unsigned char)s[z] & 0xC0) == 0x80; z++)
					;
				json_array_append_new(out,
				    jx(json_stringn(s + a, z - a)));
			}
			return out;
		}
		for (a = 0;;) {
			const char *hit = memmem(s + a, len - a, t, tlen);

			z = hit != NULL ? (size_t)(hit - s) : len;
			json_array_append_new(out, jx(json_stringn(s + a,
			    z - a)));
			if (hit == NULL)
				return out;
			a = z + tlen;
		}
	default:
		return efail(e, "internal error: function %d", f);
	}
}

static json_t *eval(struct eval *, struct cel_expr *);

static json_t *
eval_call(struct eval *e, struct cel_expr *n)
{
	json_t *a, *b = NULL, *r = NULL;

	if ((a = eval(e, n->kids[0])) == NULL)
		return NULL;
	if (n->nkids > 1 && (b = eval(e, n->kids[1])) == NULL) {
		json_decref(a);
		return NULL;
	}
	switch (n->op) {
	case F_SIZE:
		if (json_is_string(a))
			r = jx(json_integer(utf8_len(json_string_value(a),
			    json_string_length(a))));
		else if (json_is_array(a))
			r = jx(json_integer(json_array_size(a)));
		else if (json_is_object(a))
			r = jx(json_integer(json_object_size(a)));
		else
			r = efail(e, "no such overload: size(%s)",
			    type_name(a));
		break;
	case F_INT:
	case F_DOUBLE:
	case F_STRING:
		r = convert(e, n->op, a);
		break;
	default:
		r = string_method(e, n, a, b);
		break;
	}
	json_decref(a);
	json_decref(b);
	return r;
}

/* kids[0] && kids[1], kids[0] || kids[1]: short-circuit; an error on one
 * side gives way to the other side's deciding value, as in CEL. */
static json_t *
eval_logic(struct eval *e, struct cel_expr *n)
{
	int decides = n->kind == K_OR;	/* the value that ends it */
	char *err = NULL;
	json_t *v;

	for (size_t i = 0; i < 2; i++) {
		if ((v = eval(e, n->kids[i])) != NULL && !json_is_boolean(v)) {
			efail(e, "no such overload: %s needs bools, not %s",
			    n->kind == K_OR ? "||" : "&&", a_type(v));
			json_decref(v);
			v = NULL;
		}
		if (v != NULL && json_is_true(v) == decides) {
			free(err);
			return v;
		}
		json_decref(v);
		if (v == NULL && err == NULL) {
			err = e->cause;
			e->cause = NULL;
		} else if (v == NULL) {
			free(e->cause);
			e->cause = NULL;
		}
	}
	if (err != NULL) {
		e->cause = err;
		return NULL;
	}
	return json_boolean(!decides);
}

/* Evaluate n: a new reference, or NULL with e->cause. */
static json_t *
eval(struct eval *e, struct cel_expr *n)
{
	json_t *a, *b, *r = NULL, *v;

	switch (n->kind) {
	case K_LIT:
		return json_incref(n->lit);
	case K_DATA:
		return json_incref(e->data);
	case K_ETYPE:
		if ((r = json_string(e->event_type)) == NULL)
			return efail(e, "event_type is not valid UTF-8");
		return r;
	case K_LIST:
	case K_MAP:
		r = jx(n->kind == K_LIST ? json_array() : json_object());
		for (size_t i = 0; i < n->nkids; i++) {
			if ((a = eval(e, n->kids[i])) == NULL)
				goto bad;
			if (n->kind == K_LIST) {
				json_array_append_new(r, a);
				continue;
			}
			if (!json_is_string(a)) {
				efail(e, "map keys must be strings, not %s",
				    a_type(a));
				json_decref(a);
				goto bad;
			}
			if ((b = eval(e, n->kids[++i])) == NULL) {
				json_decref(a);
				goto bad;
			}
			if (json_object_getn(r, json_string_value(a),
			    json_string_length(a)) != NULL) {
				efail(e, "duplicate map key \"%s\"",
				    json_string_value(a));
				json_decref(a);
				json_decref(b);
				goto bad;
			}
			json_object_setn_new(r, json_string_value(a),
			    json_string_length(a), b);
			json_decref(a);
		}
		return r;
bad:
		json_decref(r);
		return NULL;
	case K_SELECT:
	case K_HAS:
		if ((a = eval(e, n->kids[0])) == NULL)
			return NULL;
		if (!json_is_object(a) && n->kind == K_HAS)
			r = efail(e, "has() needs a map, not %s", a_type(a));
		else if (!json_is_object(a))
			r = efail(e, "cannot select field '%s' from %s",
			    n->name, a_type(a));
		else if (n->kind == K_HAS)
			r = json_boolean(json_object_get(a, n->name) != NULL);
		else if ((v = json_object_get(a, n->name)) != NULL)
			r = json_incref(v);
		else
			r = efail(e, "no such key: %s", n->name);
		json_decref(a);
		return r;
	case K_INDEX:
		if ((a = eval(e, n->kids[0])) == NULL)
			return NULL;
		if ((b = eval(e, n->kids[1])) == NULL) {
			json_decref(a);
			return NULL;
		}
		if (json_is_array(a) && (json_is_integer(b) ||
		    (json_is_real(b) && json_real_value(b) ==
		    trunc(json_real_value(b))))) {
			double i = json_number_value(b);

			if (i >= 0 && i < (double)json_array_size(a))
				r = json_incref(json_array_get(a, (size_t)i));
			else
				r = efail(e, "index out of range: %.0f (the "
				    "list has %zu elements)", i,
				    json_array_size(a));
		} else if (json_is_object(a) && json_is_string(b)) {
			if ((v = json_object_getn(a, json_string_value(b),
			    json_string_length(b))) != NULL)
				r = json_incref(v);
			else
				r = efail(e, "no such key: %s",
				    json_string_value(b));
		} else
			r = efail(e, "no such overload: %s[%s]", type_name(a),
			    type_name(b));
		json_decref(a);
		json_decref(b);
		return r;
	case K_CALL:
		return eval_call(e, n);
	case K_NOT:
	case K_NEG:
		if ((a = eval(e, n->kids[0])) == NULL)
			return NULL;
		if (n->kind == K_NOT && json_is_boolean(a))
			r = json_boolean(!json_is_true(a));
		else if (n->kind == K_NEG && json_is_integer(a)) {
			if (json_integer_value(a) == INT64_MIN)
				r = efail(e, "integer overflow");
			else
				r = jx(json_integer(-json_integer_value(a)));
		} else if (n->kind == K_NEG && json_is_real(a))
			r = jx(json_real(-json_real_value(a)));
		else
			r = efail(e, "no such overload: %c%s", n->kind ==
			    K_NOT ? '!' : '-', type_name(a));
		json_decref(a);
		return r;
	case K_AND:
	case K_OR:
		return eval_logic(e, n);
	case K_COND:
		if ((a = eval(e, n->kids[0])) == NULL)
			return NULL;
		if (!json_is_boolean(a))
			r = efail(e, "the condition of ?: is %s, not a bool",
			    a_type(a));
		else
			r = eval(e, n->kids[json_is_true(a) ? 1 : 2]);
		json_decref(a);
		return r;
	case K_BIN:
		if ((a = eval(e, n->kids[0])) == NULL)
			return NULL;
		if ((b = eval(e, n->kids[1])) == NULL) {
			json_decref(a);
			return NULL;
		}
		r = eval_binary(e, n->op, a, b);
		json_decref(a);
		json_decref(b);
		return r;
	}
	return efail(e, "internal error: node %d", n->kind);
}

json_t *
cel_eval(struct cel_expr *n, json_t *data, const char *event_type,
    char **cause)
{
	struct eval e = { data, event_type != NULL ? event_type : "", NULL };
	json_t *empty = NULL, *r;

	if (data == NULL)
		e.data = empty = jx(json_object());
	r = eval(&e, n);
	json_decref(empty);
	if (r == NULL) {
		*cause = e.cause != NULL ? e.cause : xstrdup("evaluation "
		    "failed");
		return NULL;
	}
	free(e.cause);
	return r;
}

int
cel_filter_matches(const char *filter, json_t *data, const char *event_type,
    char **cause)
{
	struct cel_expr *n;
	json_t *v;
	int rc;

	if (filter == NULL || matches_all(filter))
		return 1;
	if ((n = cel_parse(filter, cause)) == NULL)
		return -1;
	v = cel_eval(n, data, event_type, cause);
	cel_free(n);
	if (v == NULL)
		return -1;
	if (!json_is_boolean(v)) {
		xasprintf(cause, "the filter evaluated to %s, not a bool",
		    a_type(v));
		rc = -1;
	} else
		rc = json_is_true(v);
	json_decref(v);
	return rc;
}
