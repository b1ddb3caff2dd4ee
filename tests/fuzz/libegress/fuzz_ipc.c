/*
 * fuzz_ipc.c - the IPC decoder and its typed accessors over arbitrary
 * datagrams.  Includes ipc.c so the static per-type decoders are in view.
 */
#include "../../../libegress/ipc.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG + 16];
	char name[EG_NAME_MAX + 1], wl[EG_IPC_WL_NAME_MAX + 1];
	char reason[EG_ASK_REASON_MAX + 1];
	const struct eg_set_elem *el;
	const struct eg_ip *addrs;
	const struct eg_msg_set_update *u;
	const struct eg_msg_resolve_rep *rr;
	const struct eg_msg_status *st;
	const struct eg_msg_result *res;
	struct eg_ipc_msg m;
	const char *text;
	volatile uint32_t sink = 0;
	size_t i;

	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);
	if (eg_ipc_decode(buf, size, &m) == -1)
		return 0;
	/* Whatever decoded must be fully readable through its accessor. */
	if ((u = eg_ipc_set_update(&m, &el)) != NULL) {
		for (i = 0; i < u->count; i++)
			sink += el[i].port + el[i].timeout_ms + el[i].addr[15];
	}
	if ((rr = eg_ipc_resolve_rep(&m, &addrs)) != NULL) {
		for (i = 0; i < rr->count; i++)
			sink += addrs[i].family + addrs[i].addr[15];
	}
	if ((st = eg_ipc_status(&m, &text)) != NULL) {
		for (i = 0; i < st->textlen; i++)
			sink += (uint8_t)text[i];
	}
	if ((res = eg_ipc_result(&m, &text)) != NULL) {
		for (i = 0; i < res->textlen; i++)
			sink += (uint8_t)text[i];
	}
	if (eg_ipc_resolve_req(&m, name) != NULL)
		sink += (uint32_t)strlen(name);
	if (eg_ipc_explain_req(&m, name) != NULL)
		sink += (uint32_t)strlen(name);
	if (eg_ipc_wl_listen(&m, name) != NULL)
		sink += (uint32_t)strlen(name);
	if (eg_ipc_ask_req(&m, name, wl) != NULL)
		sink += (uint32_t)(strlen(name) + strlen(wl));
	if (eg_ipc_ask_rep(&m, reason) != NULL)
		sink += (uint32_t)strlen(reason);
	(void)sink;
	return 0;
}
