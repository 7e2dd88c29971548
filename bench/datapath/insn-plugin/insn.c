// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU TCG plugin for the datapath benchmark: counts the instructions the guest executes
 * and snapshots the count when the guest creates a marker file in a directory shared with
 * the host (virtme-ng shares the host's file system).
 *
 *   qemu ... -plugin insn.so,dir=DIR[,prof=on]
 *
 * Protocol: the guest creates DIR/m.LABEL; a thread of the plugin, woken by inotify,
 * writes the instruction count executed so far by all vCPUs (decimal, one line) to
 * DIR/c.LABEL (atomically, by rename), unless c.LABEL exists already. The guest waits
 * for c.LABEL while sleeping (so it executes next to nothing until the count is taken),
 * reads it, then removes m.LABEL and only then c.LABEL. The difference of two counts is
 * what the guest executed in between (kernel and user, every task, interrupts). The
 * thread works in every TCG mode, including -icount (whose single round-robin vCPU
 * thread never calls the plugin's idle callback).
 *
 * prof=on also counts executions per translated block: a marker whose label starts with
 * "prof-start" zeroes those counters, one starting with "prof-stop" writes DIR/p.LABEL,
 * one line per guest instruction executed since: "PC COUNT" (hex PC, decimal count).
 *
 * Counting: one vCPU: an inline add of the block's instruction count when a block starts
 * (exact up to blocks left early by an exception or interrupt). Several vCPUs: a
 * callback per block adds to a per-vCPU counter, so the sum is exact too, only slower.
 */
#include <dirent.h>
#include <sys/inotify.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

struct tb_info { /* prof=on: one per translation */
	struct tb_info *next;
	uint64_t execs;
	size_t n;
	uint64_t pc[];
};

static const char *dir;
static int ncpus;
static uint64_t single;          /* the count with one vCPU (inline adds) */
static uint64_t *percpu;         /* the counts with several vCPUs (callbacks) */
static int prof;
static struct tb_info *tbs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t total(void)
{
	uint64_t t;

	t = __atomic_load_n(&single, __ATOMIC_RELAXED); /* written by the vCPU thread */
	for (int i = 0; percpu && i < ncpus; i++)
		t += __atomic_load_n(&percpu[i], __ATOMIC_RELAXED);
	return t;
}

static void tb_exec(unsigned int cpu, void *udata)
{
	percpu[cpu] += (uintptr_t)udata;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	if (percpu)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
						     (void *)(uintptr_t)n);
	else
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &single, n);
	if (!prof)
		return;
	struct tb_info *t = calloc(1, sizeof(*t) + n * sizeof(t->pc[0]));

	if (!t)
		return;
	t->n = n;
	for (size_t i = 0; i < n; i++)
		t->pc[i] = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
	/* Inline adds are not atomic: exact with one vCPU, approximate with several. */
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &t->execs, 1);
	pthread_mutex_lock(&lock);
	t->next = tbs;
	tbs = t;
	pthread_mutex_unlock(&lock);
}

static void write_file(const char *label, const char *prefix, uint64_t count, int profile)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s%s", dir, prefix, label);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	if (profile) {
		for (struct tb_info *t = tbs; t; t = t->next)
			for (size_t i = 0; t->execs && i < t->n; i++)
				fprintf(f, "%" PRIx64 " %" PRIu64 "\n", t->pc[i], t->execs);
	} else {
		fprintf(f, "%" PRIu64 "\n", count);
	}
	fclose(f);
	rename(tmp, path);
}

static void check_markers(void)
{
	uint64_t now = total(); /* first: the guest runs on while we scan */
	struct dirent *e;
	DIR *d;

	pthread_mutex_lock(&lock);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		const char *label = e->d_name + 2;
		char path[4096];

		if (strncmp(e->d_name, "m.", 2) != 0 || !*label)
			continue;
		snprintf(path, sizeof(path), "%s/c.%s", dir, label);
		if (!access(path, F_OK))
			continue;
		if (prof && !strncmp(label, "prof-start", 10))
			for (struct tb_info *t = tbs; t; t = t->next)
				t->execs = 0;
		if (prof && !strncmp(label, "prof-stop", 9))
			write_file(label, "p.", 0, 1);
		write_file(label, "c.", now, 0);
	}
	if (d)
		closedir(d);
	pthread_mutex_unlock(&lock);
}

static void *watch(void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int fd = (int)(intptr_t)arg;

	check_markers(); /* markers created before the watch */
	while (read(fd, buf, sizeof(buf)) > 0)
		check_markers();
	return NULL;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "dir=", 4))
			dir = argv[i] + 4;
		else if (!strcmp(argv[i], "prof=on"))
			prof = 1;
		else if (strcmp(argv[i], "prof=off")) {
			fprintf(stderr, "insn plugin: unknown argument '%s'\n", argv[i]);
			return -1;
		}
	}
	if (!dir || !info->system_emulation) {
		fprintf(stderr, "insn plugin: needs dir=DIR, system emulation\n");
		return -1;
	}
	ncpus = info->system.max_vcpus;
	if (ncpus > 1) {
		percpu = calloc(ncpus, sizeof(*percpu));
		if (!percpu)
			return -1;
	}
	int fd = inotify_init1(IN_CLOEXEC);
	pthread_t t;

	if (fd < 0 || inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) < 0 ||
	    pthread_create(&t, NULL, watch, (void *)(intptr_t)fd)) {
		perror("insn plugin: watching the marker directory");
		return -1;
	}
	pthread_detach(t);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	return 0;
}
