package population

// Name parts, common in Vietnam. Family names are weighted roughly by how often
// they occur: Nguyễn alone is carried by close to four in ten people.
var familyNames = []struct {
	name   string
	weight int
}{
	{"Nguyễn", 38}, {"Trần", 11}, {"Lê", 9}, {"Phạm", 7}, {"Hoàng", 5}, {"Huỳnh", 4},
	{"Phan", 4}, {"Vũ", 4}, {"Võ", 3}, {"Đặng", 2}, {"Bùi", 2}, {"Đỗ", 2}, {"Hồ", 2},
	{"Ngô", 2}, {"Dương", 1}, {"Lý", 1}, {"Đinh", 1}, {"Trương", 1}, {"Lương", 1},
}

var middleNames = map[bool][]string{ // keyed by female
	false: {"Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công", "Xuân", "Gia", "Anh", "Đình", "Trọng", "Quốc", "Bảo"},
	true:  {"Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai", "Phương", "Bảo", "Khánh", "Diệu", "Hồng", "Thùy", "Minh"},
}

var givenNames = map[bool][]string{ // keyed by female
	false: {
		"An", "Bảo", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Huy", "Hùng", "Khang", "Khoa",
		"Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thịnh",
		"Trung", "Tuấn", "Việt", "Vinh", "Lộc", "Đông", "Kiên", "Toàn", "Tùng",
	},
	true: {
		"Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan",
		"Linh", "Loan", "Mai", "My", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Trang",
		"Tuyết", "Uyên", "Vân", "Yến", "Huyền", "Nga", "Thủy",
	},
}

var streets = []string{
	"Trần Phú", "Lê Lợi", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
	"Điện Biên Phủ", "Phan Đình Phùng", "Hùng Vương", "Lê Duẩn", "Nguyễn Du", "Bà Triệu",
	"Trường Chinh", "Võ Thị Sáu", "Lạc Long Quân", "Nguyễn Văn Cừ",
}
