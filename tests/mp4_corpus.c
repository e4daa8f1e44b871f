#include "tests/mp4_corpus.h"

#include <stdio.h>
#include <stdlib.h>

int write_mp4_corpus(const char *dir, int clips)
{
    static const char *splits[3][2] = {{"train", "train_splits"}, {"dev", "dev_splits_complete"},
                                       {"test", "output_repeated_splits_test"}};
    static const char *rows[4] = {"Hi,A,joy,positive", "Oh no,B,sadness,negative", "Well,A,neutral,neutral",
                                  "What,B,surprise,positive"};
    char cmd[2048];
    for (int s = 0; s < 3; s++) {
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", dir, splits[s][1]);
        if (system(cmd)) return 1;
        snprintf(cmd, sizeof cmd, "%s/%s_sent_emo.csv", dir, splits[s][0]);
        FILE *f = fopen(cmd, "w");
        if (!f) return 1;
        fprintf(f, "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n");
        for (int u = 0; u < clips && u < 4; u++)
            fprintf(f, "%d,%s,0,%d,1,1,\"00:00:0%d,000\",\"00:00:0%d,000\"\n", u + 1, rows[u], u, u + 1, u + 2);
        if (fclose(f)) return 1;
        for (int u = 0; u < clips && u < 4; u++) {
            snprintf(cmd, sizeof cmd,
                     "ffmpeg -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=10:duration=1 -f lavfi "
                     "-i sine=frequency=%d:sample_rate=44100:duration=1 -shortest -c:v libx264 -pix_fmt yuv420p "
                     "-c:a aac '%s/%s/dia0_utt%d.mp4'",
                     300 + 100 * u, dir, splits[s][1], u);
            int rc = system(cmd);
            if (rc) return rc;
        }
    }
    return 0;
}
