/* HTML text: names from outside are data, never markup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tensor/html.h"

static void markup_in_names_is_escaped(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    html_write_text(f, "<img src=x onerror=alert(1)>/run's \"best\" & co, café");
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "&lt;img src=x onerror=alert(1)&gt;/run&#39;s &quot;best&quot; &amp; co, café");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markup_in_names_is_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
