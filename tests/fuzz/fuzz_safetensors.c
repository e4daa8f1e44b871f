/* libFuzzer target: the safetensors reader (tensor/safetensors.h), header
 * JSON, entries and layout, from memory. */
#include "tests/fuzz/fuzz.h"
#include "tensor/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SafeTensors st;
    int rc = st_parse(&st, data, size, "fuzz.safetensors");
    if (rc == MELD_OK) {
        /* The tensors must tile the data section: each one readable whole. */
        size_t floats = 0;
        for (int i = 0; i < st.n_tensors; i++) floats += st.tensors[i].numel;
        if (floats * 4 > size) abort();
        volatile float sink = 0;
        for (int i = 0; i < st.n_tensors; i++)
            if (st.tensors[i].numel) sink += st.tensors[i].data[st.tensors[i].numel - 1];
        (void)sink;
    }
    fuzz_check_error(rc);
    st_free(&st);
    return 0;
}
