/* A small XML reader: enough for OpenCV's FileStorage files (the Haar
 * cascades of video/haar.h), nothing more.
 *
 * Reads elements, their text, comments, <?xml ...?> and <!DOCTYPE ...>.
 * Attributes are skipped (a quoted value may hold '>'); entities such as
 * &lt; are left as written; CDATA sections are refused. The document
 * becomes a tree of nodes in one array, linked first-child / next-sibling;
 * node 0 is a virtual root whose children are the top-level elements.
 * Names and text point into the caller's buffer, which must outlive the
 * document.
 *
 *     XmlDoc d;
 *     if (xml_parse(&d, buf, n, "file.xml")) return MELD_ERR;   // message set
 *     int w = xml_child(&d, xml_child(&d, 0, "root"), "width");
 *     xml_int(&d, w, "width", 1, 100, &width);
 *     xml_free(&d);
 *
 * Every error names the document (the `name` given to xml_parse) and what
 * is wrong. Limits: nesting depth XML_MAX_DEPTH, at most XML_MAX_NODES
 * nodes (so memory stays proportional to the input).
 */
#ifndef MELD_VIDEO_XML_H
#define MELD_VIDEO_XML_H

#include <stddef.h>

#define XML_MAX_DEPTH 32
#define XML_MAX_NODES (1 << 21)

typedef struct {
    const char *name;          /* element name, not NUL-terminated */
    size_t name_len;
    const char *text;          /* first non-blank text run inside, or NULL */
    size_t text_len;
    int first_child, next_sibling, last_child;   /* node indices, -1: none */
} XmlNode;

typedef struct {
    XmlNode *nodes;
    int n, cap;
    const char *name;          /* for messages */
} XmlDoc;

/* Parses buf[0..n). On error *d is freed and empty, and the message names
 * `name` and the byte where parsing stopped. */
int xml_parse(XmlDoc *d, const char *buf, size_t n, const char *name);
void xml_free(XmlDoc *d);

/* First child of node `id` named `name`, or -1 (also when id is -1, so
 * look-ups chain). */
int xml_child(const XmlDoc *d, int id, const char *name);
/* Number of children of node `id` (0 for -1). */
int xml_count_children(const XmlDoc *d, int id);
/* 1 if node `id` exists and its text, trailing blanks ignored, is `value`. */
int xml_text_is(const XmlDoc *d, int id, const char *value);

/* The node's text as blank-separated decimal numbers: writes up to `max`
 * into out and returns how many there were. A missing node, a token that is
 * not a finite number, or more than `max` numbers is an error (MELD_ERR)
 * whose message names the element as <what>. */
int xml_numbers(const XmlDoc *d, int id, double *out, int max, const char *what);
/* Exactly one integer in [lo, hi]. */
int xml_int(const XmlDoc *d, int id, const char *what, long lo, long hi, int *out);

#endif
