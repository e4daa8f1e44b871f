#include "video/xml.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

static int is_blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
}

static int new_node(XmlDoc *d, int parent, const char *name, size_t len)
{
    if (d->n == d->cap) {
        if (d->cap >= XML_MAX_NODES) return meld_errorf("%s: XML has more than %d elements", d->name, XML_MAX_NODES);
        int cap = d->cap ? d->cap * 2 : 256;
        XmlNode *grown = realloc(d->nodes, sizeof(XmlNode) * (size_t)cap);
        if (!grown) return meld_errorf("%s: out of memory for XML nodes", d->name);
        d->nodes = grown;
        d->cap = cap;
    }
    int id = d->n++;
    d->nodes[id] = (XmlNode){name, len, NULL, 0, -1, -1, -1};
    if (parent >= 0) {
        XmlNode *p = &d->nodes[parent];
        if (p->last_child >= 0) d->nodes[p->last_child].next_sibling = id;
        else p->first_child = id;
        p->last_child = id;
    }
    return id;
}

/* Just past the first `word` in [p, stop), or NULL. */
static const char *skip_past(const char *p, const char *stop, const char *word)
{
    size_t k = strlen(word);
    for (; p + k <= stop; p++)
        if (!memcmp(p, word, k)) return p + k;
    return NULL;
}

/* Text up to the next '<': the current element keeps its first non-blank run. */
static const char *read_text(XmlDoc *d, int cur, const char *p, const char *end)
{
    const char *t = p;
    while (p < end && *p != '<') p++;
    while (t < p && is_blank(*t)) t++;
    XmlNode *nd = &d->nodes[cur];
    if (t < p && !nd->text) {
        nd->text = t;
        nd->text_len = (size_t)(p - t);
    }
    return p;
}

/* <?...?>, <!-- ... -->, <!DOCTYPE ...>: skipped. NULL on error. */
static const char *skip_markup(const XmlDoc *d, const char *p, const char *end)
{
    if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
        meld_errorf("%s: XML CDATA sections are not supported", d->name);
        return NULL;
    }
    const char *q = (end - p >= 4 && !memcmp(p, "<!--", 4)) ? skip_past(p + 4, end, "-->") : skip_past(p, end, ">");
    if (!q) meld_errorf("%s: XML comment or declaration not closed", d->name);
    return q;
}

/* End of the name starting at p. */
static const char *name_end(const char *p, const char *end)
{
    while (p < end && is_name_char(*p)) p++;
    return p;
}

int xml_parse(XmlDoc *d, const char *buf, size_t n, const char *name)
{
    *d = (XmlDoc){NULL, 0, 0, name};
    const char *p = buf, *end = buf + n;
    int stack[XML_MAX_DEPTH + 1], depth = 0;
    int rc = new_node(d, -1, "", 0) < 0 ? MELD_ERR : MELD_OK;
    stack[0] = 0;
    while (rc == MELD_OK && p < end) {
        size_t at = (size_t)(p - buf);
        if (*p != '<') {
            p = read_text(d, stack[depth], p, end);
        } else if (p + 1 >= end) {
            rc = meld_errorf("%s: XML truncated at byte %zu", name, at);
        } else if (p[1] == '?' || p[1] == '!') {
            if (!(p = skip_markup(d, p, end))) rc = MELD_ERR;
        } else if (p[1] == '/') {
            /* a closing tag must match the open element */
            const char *nm = p + 2, *ne = name_end(nm, end);
            const XmlNode *open = &d->nodes[stack[depth]];
            if (depth == 0 || (size_t)(ne - nm) != open->name_len || memcmp(nm, open->name, open->name_len))
                rc = meld_errorf("%s: XML closing tag </%.*s> does not match at byte %zu", name,
                                 (int)(ne - nm > 40 ? 40 : ne - nm), nm, at);
            else if (!(p = skip_past(ne, end, ">")))
                rc = meld_errorf("%s: XML truncated in a closing tag", name);
            else
                depth--;
        } else {
            /* an opening tag; attributes skipped, quoted values may hold '>' */
            const char *nm = p + 1, *ne = name_end(nm, end), *q = ne;
            if (ne == nm) {
                rc = meld_errorf("%s: XML bad tag at byte %zu", name, at);
                break;
            }
            while (q < end && *q != '>') {
                if (*q == '"' || *q == '\'') {
                    const char *close = memchr(q + 1, *q, (size_t)(end - q - 1));
                    if (!close) {
                        rc = meld_errorf("%s: XML attribute quote not closed", name);
                        break;
                    }
                    q = close;
                }
                q++;
            }
            if (rc != MELD_OK) break;
            if (q >= end) {
                rc = meld_errorf("%s: XML truncated in a tag", name);
                break;
            }
            int id = new_node(d, stack[depth], nm, (size_t)(ne - nm));
            if (id < 0) rc = MELD_ERR;
            else if (q[-1] != '/' && depth == XML_MAX_DEPTH)
                rc = meld_errorf("%s: XML nested deeper than %d", name, XML_MAX_DEPTH);
            else if (q[-1] != '/')
                stack[++depth] = id;
            p = q + 1;
        }
    }
    if (rc == MELD_OK && depth != 0) rc = meld_errorf("%s: XML truncated: %d elements not closed", name, depth);
    if (rc != MELD_OK) xml_free(d);
    return rc;
}

void xml_free(XmlDoc *d)
{
    free(d->nodes);
    d->nodes = NULL;
    d->n = d->cap = 0;
}

int xml_child(const XmlDoc *d, int id, const char *name)
{
    if (id < 0 || id >= d->n) return -1;
    size_t len = strlen(name);
    for (int c = d->nodes[id].first_child; c >= 0; c = d->nodes[c].next_sibling)
        if (d->nodes[c].name_len == len && !memcmp(d->nodes[c].name, name, len)) return c;
    return -1;
}

int xml_count_children(const XmlDoc *d, int id)
{
    int n = 0;
    for (int c = id >= 0 && id < d->n ? d->nodes[id].first_child : -1; c >= 0; c = d->nodes[c].next_sibling) n++;
    return n;
}

int xml_text_is(const XmlDoc *d, int id, const char *value)
{
    if (id < 0 || id >= d->n || !d->nodes[id].text) return 0;
    const char *t = d->nodes[id].text;
    size_t len = d->nodes[id].text_len;
    while (len && is_blank(t[len - 1])) len--;
    return len == strlen(value) && !memcmp(t, value, len);
}

/* One number token: copied out first, so strtod never reads past the text
 * (the buffer need not be NUL-terminated). */
static int parse_number(const char *tok, size_t len, double *out)
{
    char tmp[64];
    if (len >= sizeof tmp) return MELD_ERR;
    memcpy(tmp, tok, len);
    tmp[len] = '\0';
    char *stop;
    errno = 0;
    double v = strtod(tmp, &stop);
    if (stop != tmp + len || errno == ERANGE || !isfinite(v)) return MELD_ERR;
    *out = v;
    return MELD_OK;
}

static const char *ordinal_suffix(int k)
{
    if (k % 100 >= 11 && k % 100 <= 13) return "th";
    return k % 10 == 1 ? "st" : k % 10 == 2 ? "nd" : k % 10 == 3 ? "rd" : "th";
}

int xml_numbers(const XmlDoc *d, int id, double *out, int max, const char *what)
{
    if (id < 0 || id >= d->n) return meld_errorf("%s: missing <%s>", d->name, what);
    const XmlNode *nd = &d->nodes[id];
    const char *p = nd->text, *end = nd->text ? nd->text + nd->text_len : NULL;
    int n = 0;
    while (p && p < end) {
        while (p < end && is_blank(*p)) p++;
        const char *tok = p;
        while (p < end && !is_blank(*p)) p++;
        if (tok == p) break;
        double v;
        if (parse_number(tok, (size_t)(p - tok), &v))
            return meld_errorf("%s: bad number (the %d%s) in <%s>", d->name, n + 1, ordinal_suffix(n + 1), what);
        if (n == max) return meld_errorf("%s: too many numbers in <%s> (max %d)", d->name, what, max);
        out[n++] = v;
    }
    return n;
}

int xml_int(const XmlDoc *d, int id, const char *what, long lo, long hi, int *out)
{
    double v;
    int n = xml_numbers(d, id, &v, 1, what);
    if (n < 0) return MELD_ERR;
    if (n != 1 || v != floor(v) || v < (double)lo || v > (double)hi)
        return meld_errorf("%s: <%s> must be an integer in [%ld, %ld]", d->name, what, lo, hi);
    *out = (int)v;
    return MELD_OK;
}
