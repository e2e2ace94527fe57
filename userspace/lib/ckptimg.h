/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and describing checkpoint images (<linux/checkpoint_hdr.h>).
 *
 * An image is read strictly in order from a file descriptor (file, pipe or
 * socket: no seeks).  ckpt_next() returns one record at a time after
 * checking it the way restart(2) does: its length against the size its type
 * expects, the zero padding up to the next 8-byte boundary, the fields its
 * type defines, and its place in the image (header first, tail last with
 * matching counts).  Every image starts with the header, the pids and the
 * tree records; the task sections follow in the order of the tree, each
 * task record with the pid the tree gives it.  The first failure is
 * described in struct ckpt_err: the
 * stream offset of the first byte that could not be parsed, the errno
 * restart(2) returns for it and a message.
 *
 * Adding a record type: one entry in the table in ckptimg.c with its
 * size, a check function if it has fields to validate and a print function.
 */
#ifndef CKPTIMG_H
#define CKPTIMG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/checkpoint.h>
#include <linux/checkpoint_hdr.h>
#include <asm/checkpoint_hdr.h>

/* Largest record read into memory whole. */
#define CKPT_REC_MAX		(64U << 20)

struct ckpt_err {
	uint64_t off;		/* first stream offset that could not be parsed */
	int err;		/* errno restart(2) returns for it */
	char msg[256];
};

/**
 * struct ckpt_tree_task - a task of the image's tree, decoded
 * @pid: its pid, a number in the root task's pid namespace
 * @tgid: its thread group id (@pid: processes only)
 * @ppid: the pid of its parent, 0 for the root task
 * @pgid: its process group, 0 for CKPT_PID_ROOT (the one the root task is
 *	in, from outside the tree)
 * @sid: its session, 0 for CKPT_PID_ROOT
 * @parent: the index of its parent in &ckpt_tree.tasks, -1 for the root
 * @pgid_task: the index of the task whose pid @pgid is, -1 for
 *	CKPT_PID_ROOT, -2 when no task of the tree has that pid
 * @sid_task: the same for @sid
 * @exit_signal: the signal its parent gets when it ends
 * @ent: the entry of the tree record (pid tags)
 */
struct ckpt_tree_task {
	pid_t pid, tgid, ppid, pgid, sid;
	int parent;
	int pgid_task, sid_task;
	uint32_t exit_signal;
	struct ckpt_task_pids ent;
};

/**
 * struct ckpt_tree - the pids and the tree records of an image, decoded
 * @nr_pids: the number of pid objects, 0 before the pids record was read
 * @pid_nr: the number of each pid object in the root task's pid namespace,
 *	pid_nr[tag - 1]
 * @nr_tasks: the number of tasks, 0 before the tree record was read
 * @tasks: the tasks in the order of the image: the root first, every
 *	parent before its children
 */
struct ckpt_tree {
	uint32_t nr_pids;
	pid_t *pid_nr;
	uint32_t nr_tasks;
	struct ckpt_tree_task *tasks;
};

struct ckpt_record {
	uint64_t off;		/* stream offset of the record */
	uint32_t type;
	uint32_t len;		/* struct ckpt_hdr included, padding excluded */
	const struct ckpt_rec_type *rt;
	const void *data;	/* @datalen bytes, valid until the next ckpt_next() */
	uint32_t datalen;	/* @len, or the fixed part of a skip_payload type */
	unsigned int page_shift; /* of the image (its header), 0 before it */
	const struct ckpt_tree *tree; /* the pids and tasks read so far */
};

/**
 * struct ckpt_rec_type - what the library knows about a record type
 * @type: CKPT_HDR_*
 * @name: short lower-case name
 * @size: size of the record; for @varlen types the minimum size
 * @varlen: records may be longer than @size
 * @skip_payload: only the first @size bytes are kept in memory; the rest
 *	(page contents) is read and discarded
 * @check: validate the fields (optional); on failure fill @err (offset
 *	relative to the record) and return -1
 * @print: print the decoded fields, one "  name value" line each
 */
struct ckpt_rec_type {
	uint32_t type;
	const char *name;
	uint32_t size;
	int varlen;
	int skip_payload;
	int (*check)(const struct ckpt_record *rec, struct ckpt_err *err);
	void (*print)(FILE *f, const struct ckpt_record *rec);
};

enum ckpt_reader_state {
	CKPT_RD_HEADER,		/* expecting the header record */
	CKPT_RD_PIDS,		/* expecting the pids record */
	CKPT_RD_TREE,		/* expecting the tree record */
	CKPT_RD_BODY,		/* expecting body records or the tail */
	CKPT_RD_TAIL,		/* the tail was read: expecting end of stream */
	CKPT_RD_ERROR,		/* an error record was read */
	CKPT_RD_DONE,		/* end of a complete image */
	CKPT_RD_FAILED,		/* err describes why */
};

/*
 * Where the reader is inside a task's records: header, [task, creds,
 * rlimits, fs, files, ((pipe | tmpfile file_data*)*, (file tty?)?, fd)*, mm,
 * (vma, pages*)*, signals, siginfo*, itimers, restart_block?, cpu], tail.
 */
enum ckpt_task_pos {
	CKPT_TP_NONE,		/* between tasks: task or tail next */
	CKPT_TP_TASK,		/* task read: creds (mm) next */
	CKPT_TP_VMAS,		/* in the mm: vma, pages or signals (files) next */
	CKPT_TP_FDS,		/* in the files: pipe, tmpfile, file_data, file,
				 * fd or, when all fds were read, mm (signals) */
	CKPT_TP_FILE,		/* a file read: its fd next */
	CKPT_TP_SIGNALS,	/* signals read: siginfo, itimers (restart_block
				 * or cpu) next */
	CKPT_TP_RESTART,	/* restart_block read: cpu next */
	CKPT_TP_CREDS,		/* creds read: rlimits next */
	CKPT_TP_RLIMITS,	/* rlimits read: fs next */
	CKPT_TP_FS,		/* fs read: files next */
	CKPT_TP_ITIMERS,	/* itimers read: restart_block or cpu next */
	CKPT_TP_TTY,		/* a terminal's file read: its tty next */
};

/* What a tag of the image names (struct ckpt_task_state.tag_kinds). */
enum ckpt_tag_kind {
	CKPT_TAG_FILE = 1,	/* a file record */
	CKPT_TAG_PIPE,		/* a pipe record of a pipe(2) */
	CKPT_TAG_FIFO,		/* a pipe record of a named pipe */
	CKPT_TAG_TMPFILE,	/* a tmpfile record */
};

struct ckpt_task_state {
	enum ckpt_task_pos pos;
	uint32_t vmas_left;	/* vma records the mm announced */
	uint32_t fds_left;	/* fd records the files announced */
	uint32_t sigs_left;	/* siginfo records the signals announced */
	int in_vma;		/* a vma was read: pages may follow */
	uint64_t vma_start, vma_end;
	uint64_t next_page;	/* pages of a vma come in address order */
	int32_t file_tag;	/* tag of the file record just read */
	int32_t *tags;		/* file tags seen in the image */
	size_t nr_tags, max_tags;
	uint64_t nr_tasks;
	unsigned char *tag_kinds; /* enum ckpt_tag_kind of each of tags[] */
	int in_tmpfile;		/* a tmpfile was read: file_data may follow */
	int64_t tmpfile_size;	/* its size */
	int64_t next_data;	/* its file_data come in order of position */
};

struct ckpt_reader {
	int fd;
	uint64_t off;			/* bytes consumed from fd */
	uint64_t nr_records;		/* records returned so far */
	enum ckpt_reader_state state;
	unsigned char *buf;
	size_t bufsz;
	struct ckpt_hdr_header header;	/* valid once the header was read */
	struct ckpt_hdr_tail tail;	/* valid in state CKPT_RD_TAIL/DONE */
	struct ckpt_task_state task;
	struct ckpt_tree tree;		/* filled as its records are read */
	int capture;			/* keep the bytes read in cap */
	unsigned char *cap;
	size_t cap_len, cap_size;
#ifdef CKPT_COMM_LEN
	struct ckpt_hdr_task first_task; /* valid once a task record was read */
#endif
	struct ckpt_err err;
};

void ckpt_reader_init(struct ckpt_reader *r, int fd);
void ckpt_reader_release(struct ckpt_reader *r);

/*
 * Next record of the image.  Returns 1 with *rec filled, 0 at the end of a
 * complete image (tail read, end of stream), -1 on failure with r->err set
 * (an image ending with an error record fails with ECANCELED after that
 * record was returned).
 */
int ckpt_next(struct ckpt_reader *r, struct ckpt_record *rec);

/*
 * Read up to n raw bytes from the stream, for dumping what could not be
 * parsed.  Returns the number of bytes read (short at end of stream).
 */
size_t ckpt_read_raw(struct ckpt_reader *r, void *buf, size_t n);

/*
 * Check that the header describes an image this machine can restart
 * (architecture, page size): 0, or -1 with err filled (ENOEXEC).
 */
int ckpt_header_runnable(const struct ckpt_hdr_header *h, uint64_t off,
			 struct ckpt_err *err);

const struct ckpt_rec_type *ckpt_rec_type(uint32_t type);
const char *ckpt_type_name(uint32_t type);	/* NULL when unknown */
const char *ckpt_arch_name(unsigned int arch);	/* NULL when unknown */
unsigned int ckpt_this_arch(void);		/* 0 when unsupported */

void ckpt_print_record(FILE *f, const struct ckpt_record *rec);
void ckpt_hexdump(FILE *f, const void *buf, size_t len, uint64_t off);

/*
 * The pid of the image's first task: read the stream up to its task record.
 * Returns 1 with *task filled, 0 when the image holds no task (header then
 * tail), -1 with err filled.  Consumes the records it reads.
 */
struct ckpt_hdr_task;
int ckpt_first_task(int fd, struct ckpt_hdr_task *task, struct ckpt_err *err);

/**
 * struct ckpt_head - the start of an image: header, pids and tree
 * @header: the header record
 * @tree: the pids and the tasks
 * @bytes: the @len bytes of the stream the three records took, as read
 *	(for passing them on to restart(2) with the rest of a stream)
 * @len: their length
 */
struct ckpt_head {
	struct ckpt_hdr_header header;
	struct ckpt_tree tree;
	unsigned char *bytes;
	size_t len;
};

/*
 * Read the header, the pids and the tree records from fd, checked as
 * ckpt_next() checks them and the header as ckpt_header_runnable() does,
 * and nothing more of the stream.  Returns 0 with *head filled, or -1 with
 * err filled (its offset relative to where the read started) and only
 * head->bytes and head->len: the bytes consumed.  Release *head with
 * ckpt_head_release() either way.
 */
int ckpt_read_head(int fd, struct ckpt_head *head, struct ckpt_err *err);
void ckpt_head_release(struct ckpt_head *head);
void ckpt_tree_release(struct ckpt_tree *tree);

/*
 * Whether the restart tool can make the sessions and process groups of
 * the tree with fork(), setsid() and setpgid(): every task is in its
 * parent's session or leads its own, in its parent's group, its own or
 * that of another task of its session which leads it; CKPT_PID_ROOT only
 * where the parent has it too.  0, or -1 with err filled (EOPNOTSUPP, the
 * message naming the task; err->off 0).
 */
int ckpt_tree_layout(const struct ckpt_tree *tree, struct ckpt_err *err);

/* Name of a signal ("SIGUSR1"), NULL when unknown. */
const char *ckpt_signal_name(int sig);
/* Name of a capability ("CAP_SETUID"), NULL when unknown. */
const char *ckpt_cap_name(unsigned int cap);

/* Read exactly n bytes unless the stream ends: bytes read, or -1 (errno). */
ssize_t ckpt_read_full(int fd, void *buf, size_t n);
/* Write all n bytes: 0, or -1 (errno). */
int ckpt_write_full(int fd, const void *buf, size_t n);

static inline uint64_t ckpt_align(uint64_t n)
{
	return (n + CKPT_RECORD_ALIGN - 1) & ~(uint64_t)(CKPT_RECORD_ALIGN - 1);
}

#endif /* CKPTIMG_H */
