/* mpt-perf: the traffic tool (placeholder until it lands). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "mpt-perf: not built yet\n");
	return 2;
}
