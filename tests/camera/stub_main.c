/*
 * stub_main.c - `camera_stub`: the real `bitfalcon camera` command
 * (apps/cmd_camera.c) linked with the stand-in detector (stub_backend.c).
 * Usage is that of `bitfalcon camera`, without the word "camera".
 */
int bf_cmd_camera(int argc, char **argv);

int main(int argc, char **argv)
{
    static char name[] = "camera";
    argv[0] = name;
    return bf_cmd_camera(argc, argv);
}
