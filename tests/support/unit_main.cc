// The one translation unit per unit-test binary that defines the Boost.Test entry point.
#define BOOST_TEST_MODULE scimd
#include <boost/test/unit_test.hpp>
