/* The small XML reader (video/xml.h): the tree it builds, the number
 * readers, and a clear message for each kind of malformed document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "video/xml.h"

static const char DOC[] =
    "<?xml version=\"1.0\"?>\n"
    "<!-- a comment with <tags> inside -->\n"
    "<!DOCTYPE storage>\n"
    "<storage kind='a > b' n=\"2\">\n"
    "  <size>  24 12 </size>\n"
    "  <list><_>1 -2.5 3e2</_><_/><_>\n 7 </_></list>\n"
    "  <type>BOOST \n</type>\n"
    "</storage>\n";

static void builds_the_tree(void **state)
{
    (void)state;
    XmlDoc d;
    if (xml_parse(&d, DOC, sizeof DOC - 1, "doc.xml")) fail_msg("%s", meld_error());
    int root = xml_child(&d, 0, "storage");
    assert_true(root > 0);
    assert_int_equal(xml_count_children(&d, 0), 1);
    assert_int_equal(xml_count_children(&d, root), 3);
    int list = xml_child(&d, root, "list");
    assert_int_equal(xml_count_children(&d, list), 3);
    /* the attribute value with '>' did not end the tag, names are exact */
    assert_int_equal(xml_child(&d, root, "siz"), -1);
    assert_int_equal(xml_child(&d, root, "sizes"), -1);
    /* look-ups chain through a missing node */
    assert_int_equal(xml_child(&d, xml_child(&d, root, "nothing"), "size"), -1);
    assert_int_equal(xml_count_children(&d, -1), 0);
    assert_true(xml_text_is(&d, xml_child(&d, root, "type"), "BOOST"));
    assert_false(xml_text_is(&d, xml_child(&d, root, "type"), "BOOS"));
    assert_false(xml_text_is(&d, -1, "BOOST"));

    double v[4];
    assert_int_equal(xml_numbers(&d, xml_child(&d, root, "size"), v, 4, "size"), 2);
    assert_true(v[0] == 24 && v[1] == 12);
    int first = d.nodes[list].first_child, second = d.nodes[first].next_sibling;
    assert_int_equal(xml_numbers(&d, first, v, 4, "_"), 3);
    assert_true(v[0] == 1 && v[1] == -2.5 && v[2] == 300);
    assert_int_equal(xml_numbers(&d, second, v, 4, "_"), 0);   /* <_/>: no text */
    assert_int_equal(xml_numbers(&d, d.nodes[second].next_sibling, v, 4, "_"), 1);
    assert_true(v[0] == 7);
    int w;
    assert_int_equal(xml_int(&d, d.nodes[second].next_sibling, "_", 0, 7, &w), MELD_OK);
    assert_int_equal(w, 7);
    xml_free(&d);
}

static void number_errors_name_the_element(void **state)
{
    (void)state;
    static const char *bad[][2] = {
        {"<a>1 x 3</a>", "bad number (the 2nd) in <a>"},
        {"<a>1 2 3</a>", "too many numbers in <a> (max 2)"},
        {"<a>inf</a>", "bad number (the 1st) in <a>"},
        {"<a>nan</a>", "bad number"},
        {"<a>1e999</a>", "bad number"},
        {"<a>1.5.2</a>", "bad number"},
        {"<a>12345678901234567890123456789012345678901234567890123456789012345</a>", "bad number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        XmlDoc d;
        assert_int_equal(xml_parse(&d, bad[i][0], strlen(bad[i][0]), "n.xml"), MELD_OK);
        double v[2];
        assert_int_equal(xml_numbers(&d, xml_child(&d, 0, "a"), v, 2, "a"), MELD_ERR);
        if (!strstr(meld_error(), bad[i][1]) || !strstr(meld_error(), "n.xml"))
            fail_msg("'%s': error '%s' lacks '%s'", bad[i][0], meld_error(), bad[i][1]);
        xml_free(&d);
    }
    XmlDoc d;
    assert_int_equal(xml_parse(&d, "<a>2.5</a><b>9</b>", 18, "n.xml"), MELD_OK);
    double v;
    assert_int_equal(xml_numbers(&d, -1, &v, 1, "gone"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "n.xml: missing <gone>"));
    int k;
    assert_int_equal(xml_int(&d, xml_child(&d, 0, "a"), "a", 0, 9, &k), MELD_ERR);
    assert_non_null(strstr(meld_error(), "n.xml: <a> must be an integer in [0, 9]"));   /* 2.5 */
    assert_int_equal(xml_int(&d, xml_child(&d, 0, "b"), "b", 0, 8, &k), MELD_ERR);
    assert_non_null(strstr(meld_error(), "<b> must be an integer in [0, 8]"));
    xml_free(&d);
}

/* Text at the very end of a buffer that is not NUL-terminated: the number
 * reader must stop at the end (the sanitizer build sees any over-read). */
static void numbers_stop_at_the_buffer_end(void **state)
{
    (void)state;
    const char src[] = "<a/>123";
    char *buf = malloc(sizeof src - 1);
    assert_non_null(buf);
    memcpy(buf, src, sizeof src - 1);
    XmlDoc d;
    assert_int_equal(xml_parse(&d, buf, sizeof src - 1, "end.xml"), MELD_OK);
    double v;
    assert_int_equal(xml_numbers(&d, 0, &v, 1, "root"), 1);   /* node 0's text */
    assert_true(v == 123);
    xml_free(&d);
    free(buf);
}

static void malformed_documents_are_refused(void **state)
{
    (void)state;
    static const char *bad[][2] = {
        {"<a><b></a></b>", "closing tag </a> does not match at byte 6"},
        {"</a>", "closing tag </a> does not match"},
        {"<a>", "truncated: 1 elements not closed"},
        {"<a", "truncated in a tag"},
        {"<a x='1>", "attribute quote not closed"},
        {"<!-- never closed", "comment or declaration not closed"},
        {"<a><![CDATA[x]]></a>", "CDATA"},
        {"< a/>", "bad tag at byte 0"},
        {"<a></a", "truncated in a closing tag"},
        {"<a>x<", "truncated at byte 4"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        XmlDoc d;
        if (xml_parse(&d, bad[i][0], strlen(bad[i][0]), "bad.xml") != MELD_ERR)
            fail_msg("'%s' was accepted", bad[i][0]);
        if (!strstr(meld_error(), bad[i][1]) || strncmp(meld_error(), "bad.xml: ", 9))
            fail_msg("'%s': error '%s' lacks '%s'", bad[i][0], meld_error(), bad[i][1]);
        assert_null(d.nodes);   /* nothing left to free */
    }
    /* nesting: XML_MAX_DEPTH levels parse, one more is refused */
    char deep[8 * (XML_MAX_DEPTH + 2)];
    for (int depth = XML_MAX_DEPTH; depth <= XML_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) n += (size_t)sprintf(deep + n, "<a>");
        for (int i = 0; i < depth; i++) n += (size_t)sprintf(deep + n, "</a>");
        XmlDoc d;
        int rc = xml_parse(&d, deep, n, "deep.xml");
        assert_int_equal(rc, depth == XML_MAX_DEPTH ? MELD_OK : MELD_ERR);
        if (rc) assert_non_null(strstr(meld_error(), "nested deeper than 32"));
        xml_free(&d);
    }
}

/* Every prefix of a valid document parses or fails cleanly. */
static void every_truncation_is_safe(void **state)
{
    (void)state;
    for (size_t n = 0; n < sizeof DOC - 1; n++) {
        char *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, DOC, n);
        XmlDoc d;
        if (xml_parse(&d, buf, n, "cut.xml") == MELD_OK) {
            double v[8];
            for (int i = 0; i < d.n; i++) (void)xml_numbers(&d, i, v, 8, "any");
            xml_free(&d);
        } else {
            assert_non_null(strstr(meld_error(), "cut.xml: "));
        }
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builds_the_tree),
        cmocka_unit_test(number_errors_name_the_element),
        cmocka_unit_test(numbers_stop_at_the_buffer_end),
        cmocka_unit_test(malformed_documents_are_refused),
        cmocka_unit_test(every_truncation_is_safe),
    };
    return cmocka_run_group_tests_name("video: xml", tests, NULL, NULL);
}
