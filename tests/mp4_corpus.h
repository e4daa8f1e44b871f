/* A MELD-like folder of small MP4 clips for the tests (needs the ffmpeg
 * program): DIR/{train,dev,test}_sent_emo.csv with `clips` rows each
 * (dialogue 0, utterances 0..clips-1) and one 1-second testsrc + sine MP4
 * per row in MELD.Raw's split folders. */
#ifndef MELD_TESTS_MP4_CORPUS_H
#define MELD_TESTS_MP4_CORPUS_H

/* 0 on success, else the failing command's exit status. clips <= 4. */
int write_mp4_corpus(const char *dir, int clips);

#endif
