/* Every operator the engine implements, by family. Each family file defines its table. */
#include <string.h>

#include "ops/op.h"
#include "ops/families.h"

typedef struct family {
    const av__op *ops;
    const int *count;
} family;

static const family families[] = {
    {av__ops_elementwise, &av__ops_elementwise_count},
    {av__ops_reduce, &av__ops_reduce_count},
    {av__ops_shape, &av__ops_shape_count},
    {av__ops_conv, &av__ops_conv_count},
};

const av__op *av__op_find(const char *domain, const char *op_type)
{
    if (domain && !strcmp(domain, AV__DOMAIN_INTERNAL)) {
        for (int i = 0; i < av__ops_elementwise_internal_count; i++)
            if (strcmp(av__ops_elementwise_internal[i].name, op_type) == 0)
                return &av__ops_elementwise_internal[i];
        for (int i = 0; i < av__ops_conv_internal_count; i++)
            if (strcmp(av__ops_conv_internal[i].op.name, op_type) == 0)
                return &av__ops_conv_internal[i].op;
        return NULL;
    }
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0)
        return NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (int i = 0; i < *families[f].count; i++)
            if (strcmp(families[f].ops[i].name, op_type) == 0)
                return &families[f].ops[i];
    return NULL;
}

int av__op_count(void)
{
    int n = 0;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        n += *families[f].count;
    return n;
}

const av__op *av__op_at(int i)
{
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        if (i < *families[f].count)
            return &families[f].ops[i];
        i -= *families[f].count;
    }
    return NULL;
}
