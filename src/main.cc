#include "scim/app/main.h"

int main(int argc, char** argv) { return scim::app::Main(argc, argv); }
